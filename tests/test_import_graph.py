"""
The shape of the code, read from its source: no module or app imports another that imports
it back, and the core (accounts, shop) depends on no edge. ``scripts/import_graph.py``
prints the same findings.

Imports inside functions count: a deferred import hides a cycle from Python's start-up,
not from the reader.
"""

import textwrap

import pytest

from scripts import import_graph
from scripts.import_graph import problems


@pytest.fixture(scope="module")
def found() -> dict[str, list[str]]:
    return problems()


def _listed(items: list[str]) -> str:
    return "\n" + "\n".join(f"  {item}" for item in items)


def test_no_module_imports_a_module_that_imports_it_back(found):
    assert not found["module cycles"], _listed(found["module cycles"])


def test_no_app_imports_an_app_that_imports_it_back(found):
    assert not found["app cycles"], _listed(found["app cycles"])


def test_the_core_imports_neither_the_api_nor_drf_nor_the_comparison_nor_the_fast_path(found):
    assert not found["core imports of edges"], _listed(found["core imports of edges"])


def test_no_module_imports_the_root_urlconf_or_the_settings(found):
    assert not found["imports of the composition root"], _listed(
        found["imports of the composition root"]
    )


# --- The checker itself, on a small tree of its own -----------------------------------


@pytest.fixture
def tree(tmp_path):
    def write(files: dict[str, str]):
        for name, text in files.items():
            path = tmp_path / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(textwrap.dedent(text))
        return tmp_path

    return write


def test_a_cycle_through_an_import_inside_a_function_is_found(tree):
    root = tree(
        {
            "accounts/__init__.py": "",
            "accounts/services.py": "def end():\n    from .tokens import revoke\n",
            "accounts/tokens.py": "from accounts import services\n",
        }
    )
    (cycle,) = import_graph.problems(root)["module cycles"]
    assert cycle == "accounts.services (line 2) -> accounts.tokens (line 1) -> accounts.services"


def test_a_cycle_between_apps_is_found_though_no_module_cycle_is(tree):
    root = tree(
        {
            "accounts/__init__.py": "",
            "accounts/views.py": "from shop.forms import helper\n",
            "accounts/outage.py": "",
            "shop/__init__.py": "",
            "shop/forms.py": "",
            "shop/views.py": "from accounts.outage import mark\n",
        }
    )
    found = import_graph.problems(root)
    assert found["module cycles"] == []
    (cycle,) = found["app cycles"]
    assert cycle.startswith("accounts [accounts.views:1 imports shop.forms] -> shop")


def test_relative_imports_resolve_to_the_module_they_name(tree):
    root = tree(
        {
            "shop/__init__.py": "",
            "shop/selectors.py": "",
            "shop/sub/__init__.py": "from .. import selectors\nfrom . import leaf\n",
            "shop/sub/leaf.py": "from ..selectors import x\n",
        }
    )
    edges = import_graph.import_graph(root).edges
    assert edges["shop.sub"] == {"shop.selectors": 1, "shop.sub.leaf": 2}
    assert edges["shop.sub.leaf"] == {"shop.selectors": 1}


def test_the_core_importing_an_edge_or_drf_is_found_and_migrations_are_not_read(tree):
    root = tree(
        {
            "accounts/__init__.py": "",
            "accounts/tokens.py": "def f():\n    from rest_framework_simplejwt import tokens\n",
            "accounts/migrations/0001_initial.py": "import api\n",
            "api/__init__.py": "",
        }
    )
    assert import_graph.problems(root)["core imports of edges"] == [
        "accounts.tokens (line 2) imports rest_framework_simplejwt"
    ]


def test_the_root_urlconf_may_import_every_app_but_nothing_may_import_it(tree):
    root = tree(
        {
            "config/__init__.py": "",
            "config/errors.py": "",
            "config/urls.py": "from accounts.views import login\n",
            "accounts/__init__.py": "",
            "accounts/views.py": "from config.errors import page\n",
            "shop/__init__.py": "",
            "shop/views.py": "from config import urls\n",
        }
    )
    found = import_graph.problems(root)
    assert found["app cycles"] == []
    assert found["imports of the composition root"] == ["shop.views (line 1) imports config.urls"]
