"""The status page of `cw serve` in a real headless Chromium: it loads, shows the deletion the
guard holds, approves it through its button, shows the result; the next run (the "run now"
button) applies it. With CW_SCREENSHOT=FILE it also saves the page as docs/ shows it."""

import os
import shutil
import sys

from cdp import Chromium, find_chromium
from cw_e2e import check
from serve_support import HELD_KEY, Serve, cw, held_deletion_setup

if not find_chromium():
    print("SKIP: Chromium is not installed (apt-get install chromium, or "
          "scripts/install-deps.sh, which installs it for the tests)")
    sys.exit(77)

workdir = held_deletion_setup()
serve = Serve(workdir)
browser = None
try:
    browser = Chromium.start(serve.url + "/")
    page = browser.page()
    page.call("Page.enable")
    row = f'tr[data-key="{HELD_KEY}"]'
    page.wait_for(f"document.querySelector('{row} button.approve') !== null",
                  "the held deletion with its approve button")
    check("Up (2009)" in page.evaluate(f"document.querySelector('{row}').innerText"),
          "the held deletion names the item")
    check(page.evaluate("document.title") == "cw status", "the page title")

    page.evaluate(f"document.querySelector('{row} button.approve').click()")
    page.wait_for(f"document.querySelector('#message') !== null && "
                  f"document.querySelector('{row} .pending-state') !== null && "
                  f"document.querySelector('{row} .pending-state').innerText === 'approved'",
                  "the page after approving")
    message = page.evaluate("document.querySelector('#message').innerText")
    check(message.startswith("approved"), f"the confirmation says approved: {message}")
    check(page.evaluate(f"document.querySelector('{row} button') === null"),
          "an approved deletion has no buttons left")
    pending = cw(workdir, "pending", "list", "--output", "json").stdout
    check(f'"approved": true' in pending, f"the state has it approved: {pending}")

    if os.environ.get("CW_SCREENSHOT"):
        page.call("Emulation.setDeviceMetricsOverride", width=1200, height=900,
                  deviceScaleFactor=1, mobile=False)
        page.screenshot(os.environ["CW_SCREENSHOT"])

    # "run now" applies it: the next page has nothing pending and the run listed.
    page.evaluate("document.querySelector('#pairs form[action=\"/run\"] button').click()")
    serve.wait_for(lambda s: not s["pending"] and any(r["command"] == "serve" for r in s["runs"]),
                   "the requested run to apply the approved deletion")
    page.call("Page.reload")
    page.wait_for("(document.querySelector('#pending') || {innerText: ''})"
                  ".innerText.includes('Nothing held')", "the page without the held deletion")
    check(page.evaluate("document.querySelector('#runs').innerText.includes('shelf-to-backup')"),
          "the run is listed")
finally:
    if browser:
        browser.close()
    code, _, err = serve.stop()
    shutil.rmtree(workdir, ignore_errors=True)
check(code == 0, f"cw serve exits 0 on SIGTERM, got {code}: {err[-500:]}")
print("ok")
