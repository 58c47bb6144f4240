#define _DEFAULT_SOURCE 1
#define _POSIX_C_SOURCE 200809L
#include "edc_port_posix.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

struct edc_conn {
  int fd;
};

static int posix_connect(void *ctx, const char *host, uint16_t port, int udp, uint32_t timeout_ms,
                         edc_conn_t **conn) {
  struct addrinfo hints, *res = NULL, *ai;
  char service[8];
  int fd = -1;
  (void)ctx;
  if (host == NULL || conn == NULL) return EDC_ERR_INVALID_ARG;
  memset(&hints, 0, sizeof(hints));
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = udp ? SOCK_DGRAM : SOCK_STREAM;
  snprintf(service, sizeof(service), "%u", (unsigned)port);
  if (getaddrinfo(host, service, &hints, &res) != 0) return EDC_ERR_NET;
  for (ai = res; ai != NULL; ai = ai->ai_next) {
    int flags, err = 0;
    socklen_t elen = sizeof(err);
    struct pollfd pfd;
    fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
    if (fd < 0) continue;
    flags = fcntl(fd, F_GETFL, 0);
    fcntl(fd, F_SETFL, flags | O_NONBLOCK);
    if (connect(fd, ai->ai_addr, ai->ai_addrlen) != 0) {
      if (errno != EINPROGRESS) goto next;
      pfd.fd = fd;
      pfd.events = POLLOUT;
      if (poll(&pfd, 1, (int)timeout_ms) != 1) goto next;
      if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &elen) != 0 || err != 0) goto next;
    }
    fcntl(fd, F_SETFL, flags);
    if (!udp) {
      int one = 1;
      setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    }
    break;
  next:
    close(fd);
    fd = -1;
  }
  freeaddrinfo(res);
  if (fd < 0) return EDC_ERR_NET;
  *conn = (edc_conn_t *)malloc(sizeof(**conn));
  if (*conn == NULL) {
    close(fd);
    return EDC_ERR_ALLOC;
  }
  (*conn)->fd = fd;
  return EDC_OK;
}

static int posix_send(edc_conn_t *conn, const unsigned char *buf, size_t len) {
  ssize_t n;
  if (conn == NULL) return EDC_ERR_INVALID_ARG;
  do {
    n = send(conn->fd, buf, len, MSG_NOSIGNAL);
  } while (n < 0 && errno == EINTR);
  return n < 0 ? EDC_ERR_NET : (int)n;
}

static int posix_recv(edc_conn_t *conn, unsigned char *buf, size_t len, uint32_t timeout_ms) {
  struct pollfd pfd;
  ssize_t n;
  int r;
  if (conn == NULL) return EDC_ERR_INVALID_ARG;
  pfd.fd = conn->fd;
  pfd.events = POLLIN;
  do {
    r = poll(&pfd, 1, (int)timeout_ms);
  } while (r < 0 && errno == EINTR);
  if (r == 0) return EDC_ERR_TIMEOUT;
  if (r < 0) return EDC_ERR_NET;
  do {
    n = recv(conn->fd, buf, len, 0);
  } while (n < 0 && errno == EINTR);
  return n < 0 ? EDC_ERR_NET : (int)n;
}

static void posix_close(edc_conn_t *conn) {
  if (conn == NULL) return;
  close(conn->fd);
  free(conn);
}

static uint64_t posix_monotonic_ms(void *ctx) {
  struct timespec ts;
  (void)ctx;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static int64_t posix_wall_time_s(void *ctx) {
  const edc_posix_t *p = (const edc_posix_t *)ctx;
  return (int64_t)time(NULL) + p->time_offset_s;
}

static void posix_sleep_ms(void *ctx, uint32_t ms) {
  struct timespec ts;
  (void)ctx;
  ts.tv_sec = ms / 1000;
  ts.tv_nsec = (long)(ms % 1000) * 1000000L;
  while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
  }
}

static int posix_entropy(void *ctx, unsigned char *buf, size_t len) {
  (void)ctx;
  while (len > 0) {
    ssize_t n = getrandom(buf, len, 0);
    if (n < 0) {
      if (errno == EINTR) continue;
      return EDC_ERR_CRYPTO;
    }
    buf += n;
    len -= (size_t)n;
  }
  return 0;
}

const char *edc_posix_slot_name(edc_slot_t slot) {
  switch (slot) {
    case EDC_SLOT_OPERATIONAL:
      return "operational.bin";
    case EDC_SLOT_CA:
      return "ca-certs.der";
    default:
      return NULL;
  }
}

int edc_posix_read_file(const char *path, unsigned char **buf, size_t *len) {
  FILE *f;
  long sz;
  if (path == NULL || buf == NULL || len == NULL) return EDC_ERR_INVALID_ARG;
  f = fopen(path, "rb");
  if (f == NULL) return errno == ENOENT ? EDC_ERR_NOT_FOUND : EDC_ERR_STORAGE;
  if (fseek(f, 0, SEEK_END) != 0 || (sz = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) != 0) {
    fclose(f);
    return EDC_ERR_STORAGE;
  }
  *buf = (unsigned char *)malloc((size_t)sz + 1);
  if (*buf == NULL) {
    fclose(f);
    return EDC_ERR_ALLOC;
  }
  if (fread(*buf, 1, (size_t)sz, f) != (size_t)sz) {
    fclose(f);
    free(*buf);
    *buf = NULL;
    return EDC_ERR_STORAGE;
  }
  fclose(f);
  (*buf)[sz] = '\0';
  *len = (size_t)sz;
  return EDC_OK;
}

static int posix_store_read(void *ctx, edc_slot_t slot, unsigned char *buf, size_t size,
                            size_t *olen) {
  edc_posix_t *p = (edc_posix_t *)ctx;
  char path[600];
  unsigned char *data = NULL;
  size_t len = 0;
  int ret;
  const char *name = edc_posix_slot_name(slot);
  if (name == NULL || olen == NULL) return EDC_ERR_INVALID_ARG;
  snprintf(path, sizeof(path), "%s/%s", p->dir, name);
  if ((ret = edc_posix_read_file(path, &data, &len)) != 0) return ret;
  if (buf == NULL || len > size) {
    *olen = len;
    free(data);
    return EDC_ERR_BUFFER_TOO_SMALL;
  }
  memcpy(buf, data, len);
  memset(data, 0, len);
  free(data);
  *olen = len;
  return EDC_OK;
}

static int fault(edc_posix_t *p, const char *stage) {
  return p->fault != NULL && p->fault(p->fault_arg, stage) != 0;
}

int edc_posix_write_atomic(edc_posix_t *p, const char *name, const unsigned char *buf, size_t len,
                           int secret) {
  char path[600], tmp[640];
  int fd, dfd, ok = 0;
  size_t off = 0;
  if (p == NULL || name == NULL || (buf == NULL && len)) return EDC_ERR_INVALID_ARG;
  snprintf(path, sizeof(path), "%s/%s", p->dir, name);
  snprintf(tmp, sizeof(tmp), "%s/.%s.tmp.%ld", p->dir, name, (long)getpid());
  fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, secret ? 0600 : 0644);
  if (fd < 0) return EDC_ERR_STORAGE;
  while (off < len) {
    ssize_t n;
    if (fault(p, "write")) break;
    n = write(fd, buf + off, len - off);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    off += (size_t)n;
  }
  if (off == len && !fault(p, "fsync") && fsync(fd) == 0) ok = 1;
  if (close(fd) != 0) ok = 0;
  /* rename() replaces the old file atomically: readers see the old or the new one. */
  if (!ok || fault(p, "rename") || rename(tmp, path) != 0) {
    unlink(tmp);
    return EDC_ERR_STORAGE;
  }
  dfd = open(p->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd >= 0) {
    (void)fsync(dfd); /* make the rename itself durable */
    close(dfd);
  }
  return EDC_OK;
}

static int posix_store_commit(void *ctx, edc_slot_t slot, const unsigned char *buf, size_t len) {
  const char *name = edc_posix_slot_name(slot);
  if (name == NULL) return EDC_ERR_INVALID_ARG;
  return edc_posix_write_atomic((edc_posix_t *)ctx, name, buf, len, 1);
}

int edc_posix_init(edc_posix_t *p, const char *dir) {
  struct stat st;
  if (p == NULL || dir == NULL || strlen(dir) >= sizeof(p->dir)) return EDC_ERR_INVALID_ARG;
  memset(p, 0, sizeof(*p));
  strcpy(p->dir, dir);
  if (stat(dir, &st) != 0 && mkdir(dir, 0700) != 0) return EDC_ERR_STORAGE;
  p->port.ctx = p;
  p->port.net_connect = posix_connect;
  p->port.net_send = posix_send;
  p->port.net_recv = posix_recv;
  p->port.net_close = posix_close;
  p->port.monotonic_ms = posix_monotonic_ms;
  p->port.wall_time_s = posix_wall_time_s;
  p->port.sleep_ms = posix_sleep_ms;
  p->port.entropy = posix_entropy;
  p->port.store_read = posix_store_read;
  p->port.store_commit = posix_store_commit;
  return EDC_OK;
}

void edc_posix_free(edc_posix_t *p) {
  if (p != NULL) memset(p, 0, sizeof(*p));
}
