/* The POSIX port's storage (port/posix): atomic replacement that never loses the old content. */
#define _POSIX_C_SOURCE 200809L
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "edc_port_posix.h"
#include "unity_compat.h"

static edc_posix_t g_p;
static char g_dir[256];
static const char *g_fail_stage;

static int fail_at(void *arg, const char *stage) {
  (void)arg;
  return g_fail_stage != NULL && strcmp(stage, g_fail_stage) == 0;
}

static void fresh_dir(void) {
  char cmd[300];
  snprintf(g_dir, sizeof(g_dir), "/tmp/edc-store-test-%ld", (long)getpid());
  snprintf(cmd, sizeof(cmd), "rm -rf %s", g_dir);
  TEST_ASSERT_EQUAL_INT(0, system(cmd));
  TEST_ASSERT_EQUAL_INT(0, edc_posix_init(&g_p, g_dir));
  g_p.fault = fail_at;
  g_fail_stage = NULL;
}

static int count_files(void) {
  DIR *d = opendir(g_dir);
  struct dirent *e;
  int n = 0;
  if (d == NULL) return -1;
  while ((e = readdir(d)) != NULL)
    if (e->d_name[0] != '.' || (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))) n++;
  closedir(d);
  return n;
}

static void test_empty_slot_is_not_found(void) {
  unsigned char buf[16];
  size_t n;
  fresh_dir();
  TEST_ASSERT_EQUAL_INT(EDC_ERR_NOT_FOUND, g_p.port.store_read(g_p.port.ctx, EDC_SLOT_OPERATIONAL,
                                                               buf, sizeof(buf), &n));
}

static void test_commit_then_read_back(void) {
  unsigned char buf[16];
  size_t n = 0;
  struct stat st;
  char path[300];
  fresh_dir();
  TEST_ASSERT_EQUAL_INT(0, g_p.port.store_commit(g_p.port.ctx, EDC_SLOT_OPERATIONAL,
                                                 (const unsigned char *)"first", 5));
  TEST_ASSERT_EQUAL_INT(
      0, g_p.port.store_read(g_p.port.ctx, EDC_SLOT_OPERATIONAL, buf, sizeof(buf), &n));
  TEST_ASSERT_EQUAL_size_t(5, n);
  TEST_ASSERT_EQUAL_MEMORY("first", buf, 5);
  snprintf(path, sizeof(path), "%s/%s", g_dir, edc_posix_slot_name(EDC_SLOT_OPERATIONAL));
  TEST_ASSERT_EQUAL_INT(0, stat(path, &st));
  TEST_ASSERT_EQUAL_INT(0600, st.st_mode & 0777); /* holds the private key */
}

static void test_read_reports_needed_size(void) {
  unsigned char buf[2];
  size_t n = 0;
  fresh_dir();
  TEST_ASSERT_EQUAL_INT(
      0, g_p.port.store_commit(g_p.port.ctx, EDC_SLOT_CA, (const unsigned char *)"abcdef", 6));
  TEST_ASSERT_EQUAL_INT(EDC_ERR_BUFFER_TOO_SMALL,
                        g_p.port.store_read(g_p.port.ctx, EDC_SLOT_CA, buf, sizeof(buf), &n));
  TEST_ASSERT_EQUAL_size_t(6, n);
}

static void check_failure_keeps_old(const char *stage) {
  unsigned char buf[16];
  size_t n = 0;
  fresh_dir();
  TEST_ASSERT_EQUAL_INT(0, g_p.port.store_commit(g_p.port.ctx, EDC_SLOT_OPERATIONAL,
                                                 (const unsigned char *)"old", 3));
  g_fail_stage = stage;
  TEST_ASSERT_EQUAL_INT(EDC_ERR_STORAGE,
                        g_p.port.store_commit(g_p.port.ctx, EDC_SLOT_OPERATIONAL,
                                              (const unsigned char *)"new-cert", 8));
  g_fail_stage = NULL;
  TEST_ASSERT_EQUAL_INT(
      0, g_p.port.store_read(g_p.port.ctx, EDC_SLOT_OPERATIONAL, buf, sizeof(buf), &n));
  TEST_ASSERT_EQUAL_size_t(3, n);
  TEST_ASSERT_EQUAL_MEMORY("old", buf, 3);
  TEST_ASSERT_EQUAL_INT(1, count_files()); /* no temp file left behind */
}

static void test_failed_write_keeps_old_content(void) { check_failure_keeps_old("write"); }
static void test_failed_fsync_keeps_old_content(void) { check_failure_keeps_old("fsync"); }
static void test_failed_rename_keeps_old_content(void) { check_failure_keeps_old("rename"); }

static void test_second_commit_replaces_first(void) {
  unsigned char buf[16];
  size_t n = 0;
  fresh_dir();
  TEST_ASSERT_EQUAL_INT(0, g_p.port.store_commit(g_p.port.ctx, EDC_SLOT_OPERATIONAL,
                                                 (const unsigned char *)"old-longer", 10));
  TEST_ASSERT_EQUAL_INT(0, g_p.port.store_commit(g_p.port.ctx, EDC_SLOT_OPERATIONAL,
                                                 (const unsigned char *)"new", 3));
  TEST_ASSERT_EQUAL_INT(
      0, g_p.port.store_read(g_p.port.ctx, EDC_SLOT_OPERATIONAL, buf, sizeof(buf), &n));
  TEST_ASSERT_EQUAL_size_t(3, n);
  TEST_ASSERT_EQUAL_MEMORY("new", buf, 3);
  TEST_ASSERT_EQUAL_INT(1, count_files());
}

void ucx_group_posix_store(void) {
  UCX_GROUP("PosixStore");
  RUN_TEST(test_empty_slot_is_not_found);
  RUN_TEST(test_commit_then_read_back);
  RUN_TEST(test_read_reports_needed_size);
  RUN_TEST(test_failed_write_keeps_old_content);
  RUN_TEST(test_failed_fsync_keeps_old_content);
  RUN_TEST(test_failed_rename_keeps_old_content);
  RUN_TEST(test_second_commit_replaces_first);
}
