"""The demo catalog and accounts loaded by ``manage.py seed_demo``."""

DEMO_PASSWORD = "demo-pass-2026"  # noqa: S105 - documented in the README; demo only.

DEMO_USERS = [
    {"email": "alice@example.com", "first_name": "Alice", "last_name": "Archer"},
    {"email": "bob@example.com", "first_name": "Bob", "last_name": "Baker"},
]
DEMO_ADMIN = {"email": "admin@example.com", "first_name": "Ada", "last_name": "Admin"}

CATEGORIES = {
    "Books": ["Field Guide", "Cookbook", "Novel", "Atlas", "Notebook"],
    "Coffee": ["Espresso Beans", "Filter Roast", "Cold Brew Kit", "Grinder", "Mug"],
    "Garden": ["Trowel", "Seed Mix", "Watering Can", "Gloves", "Planter"],
    "Kitchen": ["Chef Knife", "Cutting Board", "Cast-Iron Pan", "Whisk", "Apron"],
    "Music": ["Vinyl Record", "Guitar Strings", "Tuner", "Headphones", "Metronome"],
    "Outdoor": ["Tent", "Headlamp", "Water Bottle", "Backpack", "Compass"],
    "Stationery": ["Fountain Pen", "Ink Bottle", "Sketchbook", "Pencil Set", "Ruler"],
    "Toys": ["Puzzle", "Kite", "Yo-yo", "Building Blocks", "Board Game"],
}
ADJECTIVES = ["Classic", "Compact", "Deluxe", "Everyday", "Pocket", "Studio"]
