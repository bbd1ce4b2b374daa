// SPDX-License-Identifier: Apache-2.0
/* osprey-ctl: HTTP/1.1 over the API's Unix socket with libcurl. */
#include "ctl/ctl.h"

#include <curl/curl.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/un.h>

struct ctl_http {
	CURL *curl;
	struct curl_slist *headers;
	char sock[sizeof(((struct sockaddr_un *)NULL)->sun_path)];
	char curl_err[CURL_ERROR_SIZE];
};

struct buf {
	char *data;
	size_t len, cap;
	bool too_large;
};

static size_t on_data(char *ptr, size_t size, size_t nmemb, void *opaque)
{
	struct buf *b = opaque;
	size_t n = size * nmemb;
	char *p;

	if (n > CTL_MAX_RESPONSE - b->len) {
		b->too_large = true;
		return 0; /* aborts the transfer */
	}
	if (b->len + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 4096;

		while (cap < b->len + n + 1)
			cap *= 2;
		p = realloc(b->data, cap);
		if (!p)
			return 0;
		b->data = p;
		b->cap = cap;
	}
	memcpy(b->data + b->len, ptr, n);
	b->len += n;
	b->data[b->len] = '\0';
	return n;
}

int ctl_http_open(const char *sock, long timeout_ms, struct ctl_http **out)
{
	/* No "Expect: 100-continue" round trip before larger bodies. */
	static const char *const headers[] = { "Content-Type: application/json",
					       "Accept: application/json", "Expect:" };
	struct ctl_http *h;
	struct curl_slist *l;

	if (strlen(sock) >= sizeof(h->sock))
		return -ENAMETOOLONG;
	if (curl_global_init(CURL_GLOBAL_NOTHING) != CURLE_OK)
		return -ENOMEM;
	h = calloc(1, sizeof(*h));
	if (!h)
		goto err_global;
	strcpy(h->sock, sock);
	h->curl = curl_easy_init();
	if (!h->curl)
		goto err_free;
	for (size_t i = 0; i < sizeof(headers) / sizeof(headers[0]); i++) {
		l = curl_slist_append(h->headers, headers[i]);
		if (!l)
			goto err_curl;
		h->headers = l;
	}
	curl_easy_setopt(h->curl, CURLOPT_UNIX_SOCKET_PATH, h->sock);
	curl_easy_setopt(h->curl, CURLOPT_HTTPHEADER, h->headers);
	curl_easy_setopt(h->curl, CURLOPT_ERRORBUFFER, h->curl_err);
	curl_easy_setopt(h->curl, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h->curl, CURLOPT_PATH_AS_IS, 1L);
	curl_easy_setopt(h->curl, CURLOPT_TIMEOUT_MS, timeout_ms);
	curl_easy_setopt(h->curl, CURLOPT_CONNECTTIMEOUT_MS, timeout_ms);
	curl_easy_setopt(h->curl, CURLOPT_WRITEFUNCTION, on_data);
	*out = h;
	return 0;

err_curl:
	curl_slist_free_all(h->headers);
	curl_easy_cleanup(h->curl);
err_free:
	free(h);
err_global:
	curl_global_cleanup();
	return -ENOMEM;
}

static int curl_failed(struct ctl_http *h, CURLcode rc, const struct buf *b, char *err,
		       size_t errlen)
{
	long os_errno = 0;

	curl_easy_getinfo(h->curl, CURLINFO_OS_ERRNO, &os_errno);
	switch (rc) {
	case CURLE_COULDNT_CONNECT:
		if (os_errno == 0)
			os_errno = ECONNREFUSED;
		snprintf(err, errlen, "cannot connect to %s: %s (is osprey running with --api-sock?)",
			 h->sock, strerror((int)os_errno));
		return -(int)os_errno;
	case CURLE_OPERATION_TIMEDOUT:
		snprintf(err, errlen, "%s: no answer in time", h->sock);
		return -ETIMEDOUT;
	case CURLE_WRITE_ERROR:
		if (b->too_large) {
			snprintf(err, errlen, "%s: response larger than %u bytes", h->sock,
				 CTL_MAX_RESPONSE);
			return -EFBIG;
		}
		snprintf(err, errlen, "%s: out of memory", h->sock);
		return -ENOMEM;
	default:
		snprintf(err, errlen, "%s: %s", h->sock,
			 h->curl_err[0] ? h->curl_err : curl_easy_strerror(rc));
		return -EIO;
	}
}

int ctl_http_send(struct ctl_http *h, const char *method, const char *path, const char *body,
		  size_t len, struct ctl_response *resp, char *err, size_t errlen)
{
	struct buf b = { NULL, 0, 0, false };
	char url[CTL_PATH_MAX + 32];
	CURLcode rc;
	int ret;

	memset(resp, 0, sizeof(*resp));
	/* The host name is not used on a Unix socket; it goes into Host:. */
	if ((size_t)snprintf(url, sizeof(url), "http://localhost%s", path) >= sizeof(url)) {
		snprintf(err, errlen, "request path too long");
		return -ENAMETOOLONG;
	}
	h->curl_err[0] = '\0';
	curl_easy_setopt(h->curl, CURLOPT_URL, url);
	curl_easy_setopt(h->curl, CURLOPT_HTTPGET, 1L); /* forgets any earlier body */
	if (body) {
		curl_easy_setopt(h->curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
		curl_easy_setopt(h->curl, CURLOPT_POSTFIELDS, body);
	}
	curl_easy_setopt(h->curl, CURLOPT_NOBODY, strcmp(method, "HEAD") == 0 ? 1L : 0L);
	curl_easy_setopt(h->curl, CURLOPT_CUSTOMREQUEST, method);
	curl_easy_setopt(h->curl, CURLOPT_WRITEDATA, &b);
	rc = curl_easy_perform(h->curl);
	if (rc != CURLE_OK) {
		ret = curl_failed(h, rc, &b, err, errlen);
		free(b.data);
		return ret;
	}
	curl_easy_getinfo(h->curl, CURLINFO_RESPONSE_CODE, &resp->status);
	resp->body = b.data;
	resp->len = b.len;
	return 0;
}

void ctl_response_free(struct ctl_response *resp)
{
	free(resp->body);
	resp->body = NULL;
	resp->len = 0;
}

void ctl_http_close(struct ctl_http *h)
{
	if (!h)
		return;
	curl_easy_cleanup(h->curl);
	curl_slist_free_all(h->headers);
	free(h);
	curl_global_cleanup();
}
