"""The Dagster UI as a user opens it: Playwright drives Debian's Chromium against `dagster dev`
after the upload sensor has ingested a bundle, and finds the components asset's row count and
column schema on its page."""

import re
import shutil

from playwright.sync_api import expect, sync_playwright

from wessley_dagster_tests.conftest import SYNTHETIC, stage_bundle, unique, uploads_dir
from wessley_dagster_tests.dagster_dev import eventually


def test_the_components_asset_shows_its_row_count_and_columns(dev, env):
    server, _ = dev
    key = stage_bundle(SYNTHETIC, uploads_dir(env), unique("ui"), "job")
    (run,) = eventually(lambda: server.runs(**{"dagster/partition": key}), lambda runs: len(runs) == 1, 180)
    assert server.wait_run(run["runId"]) == "SUCCESS"

    chromium = shutil.which("chromium")
    assert chromium, "Debian's chromium is missing (make test installs it)"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, args=["--no-sandbox"])
        try:
            page = browser.new_page(viewport={"width": 1600, "height": 2400})
            page.goto(f"{server.base_url}/assets/components?partition={key}")
            expect(page.get_by_text("Columns", exact=True)).to_be_visible(timeout=60_000)
            body = page.inner_text("body")
            assert re.search(r"Row count\s+10\b", body), body[:2000]
            columns = body.split("Column name", 1)[1]
            for name, kind in (("id", "str"), ("page", "int"), ("pins", "list[Pin]"), ("footprint", "str | None")):
                assert re.search(rf"\n{re.escape(name)}\s+{re.escape(kind)}\s", columns), name
        finally:
            browser.close()
