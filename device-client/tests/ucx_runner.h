/** @file ucx_runner.h Hooks of the Unity-style runner (ucx_runner.c) for its platform. */
#ifndef UCX_RUNNER_H
#define UCX_RUNNER_H
#ifdef __cplusplus
extern "C" {
#endif
/** Called before each test (the target paints the stack here). */
void ucx_before_test(void);
/** Called after each test (the target measures stack and heap here). */
void ucx_after_test(const char *group, const char *name);
/** Print the summary and the final PASS/FAIL line; returns the number of failures. */
int ucx_finish(void);
#ifdef __cplusplus
}
#endif
#endif
