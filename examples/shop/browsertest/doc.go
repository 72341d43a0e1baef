// Package browsertest drives the shop's dashboard in headless Chromium:
// it builds and starts the shop (examples/shop), sends it traffic, opens
// /dashboard and checks that what the page draws — figures, tables and
// chart data — matches /dashboard/data and /metrics, that it refreshes
// without reloading, and that it reads without JavaScript. It is a module
// of its own so that the browser tooling (chromedp) never becomes a
// dependency of the library.
//
//	cd examples/shop/browsertest && go test ./...
//
// It needs a Chromium (Debian's chromium package); REDIS_ADDR adds the
// run on Redis. DASHBOARD_SCREENSHOT=path saves the page as a PNG.
package browsertest
