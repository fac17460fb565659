"""Regenerate the docs' pictures of the map from the current bundled corpus.

Run from the repository's root (needs playwright, Debian's /usr/bin/chromium and Pillow):

    python docs/screenshots.py            # every picture below, into docs/
    python docs/screenshots.py --only screenshot.png

What each picture shows (the page as `takeoff html` writes it, perspectives included):

- ``screenshot.png``: docs/html.md's picture at 1600x1000, the panel of a takeoff path open;
- ``map-1280x720.png``, ``map-1600x1000.png``: the first view, as a reader opening the page
  sees it on a laptop and on a desktop screen (labels by the rule shown under the map);
- ``what-if-1280x720.png``, ``what-if-1600x1000.png``: docs/what-if.md's pictures, the panel
  open on a claim whose credence was moved to 0.15 (the ranking shows the deltas).
"""
import argparse
import io
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic"]


def panel_open(page, node="software-explosion"):
    """The panel of `node` open beside the whole map."""
    page.evaluate("""id => { takeoff.openPanel(id); network.selectNodes([id]); network.setSize();
                             takeoff.fit(); }""", node)


def first_view(page):
    """The page as it opens: nothing to do."""


def what_if(page, node="rl-returns-large"):
    # As a click on the node leaves it: the panel open and the view on the node.
    page.evaluate("""id => { takeoff.goTo(id); network.moveTo({scale: 0.85, animation: false});
                             network.focus(id, {scale: 0.85, animation: false});
                             takeoff.setChange({kind: 'credence', id: id, value: 0.15}); }""", node)


def settled(page):
    """Wait for the view to stop moving (a glide to a node is drawn frame by frame, slower on a
    busy machine) and for the labels to be placed for where it stopped."""
    scale = None
    while scale != (scale := page.evaluate("() => network.getScale()")):
        page.wait_for_timeout(400)
    page.wait_for_timeout(500)


#: file name: (viewport, what is done on the page before the picture)
PICTURES = {
    "screenshot.png": ((1600, 1000), panel_open),
    "map-1280x720.png": ((1280, 720), first_view),
    "map-1600x1000.png": ((1600, 1000), first_view),
    "what-if-1280x720.png": ((1280, 720), what_if),
    "what-if-1600x1000.png": ((1600, 1000), what_if),
}


def save_png(png, path):
    """A screenshot with a 256-colour palette: the flat page stays sharp at a third of the size."""
    from PIL import Image

    image = Image.open(io.BytesIO(png)).convert("RGB")
    image.quantize(256, method=Image.Quantize.FASTOCTREE, dither=Image.Dither.NONE).save(path, optimize=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--only", choices=sorted(PICTURES), action="append",
                        help="Only this picture (repeatable).")
    parser.add_argument("--out", type=Path, default=ROOT / "docs", help="Folder to write into.")
    args = parser.parse_args()

    from playwright.sync_api import sync_playwright

    from graph.page.html import write_html
    from graph.files.corpus import Corpus
    from graph.files.perspectives import load_perspective, perspective_names

    corpus = Corpus.load(ROOT / "claims").require_valid()
    perspectives = [load_perspective(corpus, name) for name in perspective_names(corpus.root)]
    with tempfile.TemporaryDirectory() as tmp, sync_playwright() as p:
        page_path = Path(tmp) / "map.html"
        write_html(page_path, corpus.graph, perspectives=perspectives)
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        for name in args.only or PICTURES:
            (width, height), action = PICTURES[name]
            page = browser.new_page(viewport={"width": width, "height": height})
            page.goto(page_path.as_uri())
            page.wait_for_function("() => document.getElementById('label-rule').textContent !== ''")
            action(page)
            settled(page)
            save_png(page.screenshot(), args.out / name)
            print(args.out / name)
            page.close()
        browser.close()


if __name__ == "__main__":
    main()
