"""Storefront views: HTML over the shop core, the user identified by their session."""

from django.core.paginator import Paginator
from django.http import Http404, JsonResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from . import selectors
from .models import Product

CATALOG_PAGE_SIZE = 24


@require_GET
def healthz(request):
    """Liveness: answer without touching the database or Redis."""
    return JsonResponse({"status": "ok"})


@require_GET
def catalog(request):
    query = request.GET.get("q", "")
    category_slug = request.GET.get("category", "")
    products = selectors.product_list(query=query, category_slug=category_slug)
    page = Paginator(products, CATALOG_PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "shop/catalog.html",
        {
            "page": page,
            "query": query,
            "category_slug": category_slug,
            "categories": selectors.category_list(),
        },
    )


@require_GET
def product_detail(request, slug):
    try:
        product = selectors.product_get(slug=slug)
    except Product.DoesNotExist as exc:
        raise Http404("No such product.") from exc
    return render(request, "shop/product_detail.html", {"product": product})
