#ifdef __linux__
#include <dlfcn.h>
#include <poll.h>
#include <stdio.h>
#include "CWebhook.h"

/*
 * libcurl's easy interface, called through pointers found with dlsym. The option and info
 * numbers are libcurl's stable ABI (curl/curl.h): CURLOPTTYPE_LONG 0, OBJECTPOINT 10000,
 * FUNCTIONPOINT 20000, OFF_T 30000; CURLINFO_LONG 0x200000.
 */
enum {
    TW_CURLOPT_URL = 10002, TW_CURLOPT_ERRORBUFFER = 10010, TW_CURLOPT_WRITEFUNCTION = 20011,
    TW_CURLOPT_POSTFIELDS = 10015, TW_CURLOPT_USERAGENT = 10018, TW_CURLOPT_HTTPHEADER = 10023,
    TW_CURLOPT_POST = 47, TW_CURLOPT_NOSIGNAL = 99, TW_CURLOPT_POSTFIELDSIZE_LARGE = 30120,
    TW_CURLOPT_TIMEOUT_MS = 155, TW_CURLOPT_PROTOCOLS_STR = 10318, TW_CURLOPT_NOPROGRESS = 43,
    TW_CURLOPT_XFERINFOFUNCTION = 20219, TW_CURLOPT_XFERINFODATA = 10057,
    TW_CURLINFO_RESPONSE_CODE = 0x200000 + 2,
};

typedef void *(*tw_curl_easy_init_fn)(void);
typedef int (*tw_curl_easy_setopt_fn)(void *, int, ...);
typedef int (*tw_curl_easy_perform_fn)(void *);
typedef int (*tw_curl_easy_getinfo_fn)(void *, int, ...);
typedef void (*tw_curl_easy_cleanup_fn)(void *);
typedef const char *(*tw_curl_easy_strerror_fn)(int);
typedef void *(*tw_curl_slist_append_fn)(void *, const char *);
typedef void (*tw_curl_slist_free_all_fn)(void *);

/* The response body is not wanted; without a write function libcurl would print it. */
static size_t tw_discard(char *data, size_t size, size_t count, void *context) {
    (void)data; (void)context;
    return size * count;
}

/* Called about once a second while the transfer waits: a byte readable on the stop descriptor
 * (the context) aborts it. */
static int tw_stop_asked(void *context, long long dltotal, long long dlnow, long long ultotal, long long ulnow) {
    (void)dltotal; (void)dlnow; (void)ultotal; (void)ulnow;
    struct pollfd stop = { .fd = (int)(long)context, .events = POLLIN, .revents = 0 };
    return poll(&stop, 1, 0) > 0 ? 1 : 0;
}

int tw_http_post_json(const char *url, const char *body, long length, long timeout_ms, long *status,
                      char *error, unsigned long error_size, int stop_fd) {
    if (error_size > 0) error[0] = 0;
    void *library = dlopen("libcurl.so.4", RTLD_NOW | RTLD_LOCAL);
    if (!library) {
        snprintf(error, error_size, "webhooks need libcurl (libcurl.so.4), which is not installed: %s", dlerror());
        return -1;
    }
    tw_curl_easy_init_fn easy_init = (tw_curl_easy_init_fn)dlsym(library, "curl_easy_init");
    tw_curl_easy_setopt_fn setopt = (tw_curl_easy_setopt_fn)dlsym(library, "curl_easy_setopt");
    tw_curl_easy_perform_fn perform = (tw_curl_easy_perform_fn)dlsym(library, "curl_easy_perform");
    tw_curl_easy_getinfo_fn getinfo = (tw_curl_easy_getinfo_fn)dlsym(library, "curl_easy_getinfo");
    tw_curl_easy_cleanup_fn cleanup = (tw_curl_easy_cleanup_fn)dlsym(library, "curl_easy_cleanup");
    tw_curl_easy_strerror_fn strerror_fn = (tw_curl_easy_strerror_fn)dlsym(library, "curl_easy_strerror");
    tw_curl_slist_append_fn slist_append = (tw_curl_slist_append_fn)dlsym(library, "curl_slist_append");
    tw_curl_slist_free_all_fn slist_free = (tw_curl_slist_free_all_fn)dlsym(library, "curl_slist_free_all");
    if (!easy_init || !setopt || !perform || !getinfo || !cleanup || !strerror_fn || !slist_append || !slist_free) {
        snprintf(error, error_size, "libcurl.so.4 lacks its easy interface");
        return -1;
    }
    void *handle = easy_init();
    if (!handle) {
        snprintf(error, error_size, "libcurl could not start a transfer");
        return -1;
    }
    char curl_error[256] = {0}; /* CURL_ERROR_SIZE */
    void *headers = slist_append(NULL, "Content-Type: application/json");
    setopt(handle, TW_CURLOPT_URL, url);
    /* Before 7.85 this option is unknown and refused: the URL was checked to be http(s) anyway. */
    setopt(handle, TW_CURLOPT_PROTOCOLS_STR, "http,https");
    setopt(handle, TW_CURLOPT_POST, 1L);
    setopt(handle, TW_CURLOPT_POSTFIELDS, body);
    setopt(handle, TW_CURLOPT_POSTFIELDSIZE_LARGE, (long long)length);
    setopt(handle, TW_CURLOPT_HTTPHEADER, headers);
    setopt(handle, TW_CURLOPT_USERAGENT, "tunwarden");
    setopt(handle, TW_CURLOPT_TIMEOUT_MS, timeout_ms);
    setopt(handle, TW_CURLOPT_NOSIGNAL, 1L);
    setopt(handle, TW_CURLOPT_WRITEFUNCTION, tw_discard);
    setopt(handle, TW_CURLOPT_ERRORBUFFER, curl_error);
    if (stop_fd >= 0) {
        setopt(handle, TW_CURLOPT_XFERINFOFUNCTION, tw_stop_asked);
        setopt(handle, TW_CURLOPT_XFERINFODATA, (void *)(long)stop_fd);
        setopt(handle, TW_CURLOPT_NOPROGRESS, 0L);
    }
    int code = perform(handle);
    int result = 0;
    if (code == 42 && stop_fd >= 0) { /* CURLE_ABORTED_BY_CALLBACK: a stop */
        snprintf(error, error_size, "the POST under way was abandoned unanswered");
        result = -1;
    } else if (code != 0) {
        snprintf(error, error_size, "%s", curl_error[0] ? curl_error : strerror_fn(code));
        result = -1;
    } else {
        long response = 0;
        getinfo(handle, TW_CURLINFO_RESPONSE_CODE, &response);
        *status = response;
    }
    cleanup(handle);
    slist_free(headers);
    /* libcurl stays loaded: unloading a library that started threads or registered handlers is unsafe. */
    return result;
}
#endif
