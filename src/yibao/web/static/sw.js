// A minimal service worker: the app shell is cached for speed, pages always come from the network
// (account data must be current), and a failed page load shows the offline page with a retry button.
// The shell is served cache-first, so its cache is named after the shell's content: /sw.js puts
// a digest of app.css in place of the marker, and a changed stylesheet reaches installed apps.
const CACHE = "yibao-shell-__SHELL_VERSION__";
const SHELL = ["/static/app.css", "/offline", "/static/icons/icon-192.png"];

self.addEventListener("install", (event) => {
  event.waitUntil(caches.open(CACHE).then((cache) => cache.addAll(SHELL)).then(() => self.skipWaiting()));
});

self.addEventListener("activate", (event) => {
  event.waitUntil(
    caches.keys()
      .then((keys) => Promise.all(keys.filter((k) => k !== CACHE).map((k) => caches.delete(k))))
      .then(() => self.clients.claim())
  );
});

self.addEventListener("fetch", (event) => {
  const request = event.request;
  if (request.method !== "GET") return;
  if (request.mode === "navigate") {
    event.respondWith(fetch(request).catch(() => caches.match("/offline")));
    return;
  }
  const url = new URL(request.url);
  if (url.origin === self.location.origin && url.pathname.startsWith("/static/")) {
    event.respondWith(caches.match(request).then((hit) => hit || fetch(request)));
  }
});
