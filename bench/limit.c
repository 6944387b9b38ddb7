/*
 * limit.c: see limit.h. The buffers keep their memory between requests,
 * as kupe.core's do, so a steady loop allocates nothing here.
 */
#include <stdlib.h>
#include <string.h>

#include "limit.h"

static int buf_append(limit_buf *b, const char *s, size_t n) {
  if (n > b->cap - b->len) {
    size_t cap = b->cap ? b->cap : 256;
    char *p;
    while (cap - b->len < n) {
      if (cap > (size_t)-1 / 2)
        return -1;
      cap *= 2;
    }
    p = realloc(b->data, cap);
    if (p == NULL)
      return -1;
    b->data = p;
    b->cap = cap;
  }
  memcpy(b->data + b->len, s, n);
  b->len += n;
  return 0;
}

static size_t on_body(char *data, size_t size, size_t n, void *ud) {
  limit *l = ud;
  size_t len = size * n;
  l->received += (long long)len;
  if (l->file != NULL)
    return fwrite(data, 1, len, l->file);
  return buf_append(&l->body, data, len) == 0 ? len : 0;
}

static size_t on_head(char *data, size_t size, size_t n, void *ud) {
  limit *l = ud;
  size_t len = size * n;
  if (len >= 5 && memcmp(data, "HTTP/", 5) == 0)
    l->head.len = 0; /* a new status line starts a new head */
  return buf_append(&l->head, data, len) == 0 ? len : 0;
}

static int add(struct curl_slist **list, const char *line) {
  struct curl_slist *p = curl_slist_append(*list, line);
  if (p == NULL)
    return -1;
  *list = p;
  return 0;
}

int limit_open(limit *l, const char *key, const char *ua) {
  char line[512];
  memset(l, 0, sizeof(*l));
  if (add(&l->headers, "Accept: application/json") != 0 ||
      add(&l->headers, "Expect:") != 0)
    return -1;
  if (key != NULL) {
    if (snprintf(line, sizeof(line), "x-api-key: %s", key) >=
            (int)sizeof(line) ||
        add(&l->headers, line) != 0)
      return -1;
  }
  l->easy = curl_easy_init();
  if (l->easy == NULL)
    return -1;
  /* The options kupe.core sets on its handle (client.c). */
  if (curl_easy_setopt(l->easy, CURLOPT_NOSIGNAL, 1L) != CURLE_OK ||
      curl_easy_setopt(l->easy, CURLOPT_NOPROGRESS, 1L) != CURLE_OK ||
      curl_easy_setopt(l->easy, CURLOPT_ACCEPT_ENCODING, "") != CURLE_OK ||
      curl_easy_setopt(l->easy, CURLOPT_TCP_KEEPALIVE, 1L) != CURLE_OK ||
      curl_easy_setopt(l->easy, CURLOPT_BUFFERSIZE, 128L * 1024L) !=
          CURLE_OK ||
      curl_easy_setopt(l->easy, CURLOPT_HTTPHEADER, l->headers) !=
          CURLE_OK ||
      curl_easy_setopt(l->easy, CURLOPT_WRITEFUNCTION, on_body) !=
          CURLE_OK ||
      curl_easy_setopt(l->easy, CURLOPT_WRITEDATA, l) != CURLE_OK ||
      curl_easy_setopt(l->easy, CURLOPT_HEADERFUNCTION, on_head) !=
          CURLE_OK ||
      curl_easy_setopt(l->easy, CURLOPT_HEADERDATA, l) != CURLE_OK ||
      (ua != NULL &&
       curl_easy_setopt(l->easy, CURLOPT_USERAGENT, ua) != CURLE_OK))
    return -1;
  return 0;
}

long limit_get(limit *l, const char *url, char *err, size_t errlen) {
  long status = 0;
  CURLcode rc;
  l->head.len = l->body.len = 0;
  l->received = 0;
  rc = curl_easy_setopt(l->easy, CURLOPT_URL, url);
  if (rc == CURLE_OK)
    rc = curl_easy_perform(l->easy);
  if (rc == CURLE_OK)
    rc = curl_easy_getinfo(l->easy, CURLINFO_RESPONSE_CODE, &status);
  if (rc != CURLE_OK) {
    snprintf(err, errlen, "%s", curl_easy_strerror(rc));
    return -1;
  }
  return status;
}

void limit_close(limit *l) {
  if (l->easy != NULL)
    curl_easy_cleanup(l->easy);
  curl_slist_free_all(l->headers);
  free(l->head.data);
  free(l->body.data);
  memset(l, 0, sizeof(*l));
}
