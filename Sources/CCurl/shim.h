#ifndef SYNCAGENT_CCURL_SHIM_H
#define SYNCAGENT_CCURL_SHIM_H
#include <curl/curl.h>

/* curl_easy_setopt, curl_easy_getinfo and curl_multi_setopt are variadic, which Swift cannot call.
   These typed wrappers are the only way the Swift side sets options; one per argument type. */

static inline CURLcode syncagent_curl_setopt_long(CURL *handle, CURLoption option, long value) {
    return curl_easy_setopt(handle, option, value);
}
static inline CURLcode syncagent_curl_setopt_string(CURL *handle, CURLoption option, const char *value) {
    return curl_easy_setopt(handle, option, value);
}
static inline CURLcode syncagent_curl_setopt_pointer(CURL *handle, CURLoption option, void *value) {
    return curl_easy_setopt(handle, option, value);
}
static inline CURLcode syncagent_curl_setopt_slist(CURL *handle, CURLoption option, struct curl_slist *value) {
    return curl_easy_setopt(handle, option, value);
}
static inline CURLcode syncagent_curl_setopt_blob(CURL *handle, CURLoption option, struct curl_blob *value) {
    return curl_easy_setopt(handle, option, value);
}
static inline CURLcode syncagent_curl_setopt_offset(CURL *handle, CURLoption option, curl_off_t value) {
    return curl_easy_setopt(handle, option, value);
}
typedef size_t (*syncagent_curl_data_callback)(char *data, size_t size, size_t count, void *context);
static inline CURLcode syncagent_curl_setopt_data_callback(CURL *handle, CURLoption option,
                                                           syncagent_curl_data_callback callback) {
    return curl_easy_setopt(handle, option, callback);
}
static inline CURLcode syncagent_curl_getinfo_long(CURL *handle, CURLINFO info, long *value) {
    return curl_easy_getinfo(handle, info, value);
}
static inline CURLcode syncagent_curl_getinfo_double(CURL *handle, CURLINFO info, double *value) {
    return curl_easy_getinfo(handle, info, value);
}
static inline CURLcode syncagent_curl_getinfo_string(CURL *handle, CURLINFO info, char **value) {
    return curl_easy_getinfo(handle, info, value);
}
static inline CURLMcode syncagent_curl_multi_setopt_long(CURLM *multi, CURLMoption option, long value) {
    return curl_multi_setopt(multi, option, value);
}
/* CURLMsg keeps a finished transfer's result in a union, which Swift reads awkwardly. */
static inline CURLcode syncagent_curl_msg_result(const CURLMsg *message) {
    return message->data.result;
}
static inline int syncagent_curl_msg_is_done(const CURLMsg *message) {
    return message->msg == CURLMSG_DONE;
}
#endif
