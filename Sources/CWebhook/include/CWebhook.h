#ifndef TUNWARDEN_CWEBHOOK_H
#define TUNWARDEN_CWEBHOOK_H

/*
 * Webhook delivery on Linux through libcurl, which is loaded only when a webhook is sent, so that
 * no run without one pays for loading it and its dozens of libraries. Kept apart from the
 * system-call shims: this is HTTP, not the kernel.
 */
#ifdef __linux__
/// POSTs `length` bytes of `body` to `url` (http or https only) as application/json through
/// libcurl, which is loaded only now, so that no run that sends no webhook pays for loading it
/// and its dozens of libraries. Waits at most `timeout_ms` and never follows redirects. Returns 0
/// with the HTTP status in `*status` when a response arrived; otherwise -1 with the reason in
/// `error` (NUL-terminated, at most `error_size` bytes), including when libcurl is not installed.
/// A byte readable on `stop_fd` (unless it is -1) abandons the transfer within about a second.
int tw_http_post_json(const char *url, const char *body, long length, long timeout_ms, long *status,
                      char *error, unsigned long error_size, int stop_fd);
#endif

#endif
