// ThreadSanitizer builds only (bark_rdkafka in CMakeLists.txt). Debian's librdkafka starts its
// threads and locks its mutexes through C11 <threads.h> (thrd_create, mtx_lock, cnd_wait, ...),
// which the ThreadSanitizer runtimes of GCC 12 and clang 14 do not intercept: its threads run
// unknown to the runtime, whose first allocation on them crashes (SIGSEGV in the allocator's
// per-thread cache), and its locks would order nothing. These definitions take the place of
// glibc's (the executable's symbols come first) and forward to the pthread functions, which the
// runtime intercepts. glibc implements <threads.h> on the same types (mtx_t is a pthread_mutex_t,
// cnd_t a pthread_cond_t, once_flag a pthread_once_t), so the layouts agree.
#include <errno.h>
#include <pthread.h>
#include <threads.h>

#include <cstdint>
#include <new>

namespace {

static_assert(sizeof(mtx_t) == sizeof(pthread_mutex_t));
static_assert(sizeof(cnd_t) == sizeof(pthread_cond_t));
static_assert(sizeof(once_flag) == sizeof(pthread_once_t));

struct thread_start {
    thrd_start_t func;
    void* arg;
};

void* run_thread(void* p) {
    const thread_start start = *static_cast<thread_start*>(p);
    delete static_cast<thread_start*>(p);
    // thrd_join reads the int back from the pointer, as glibc's own thrd_create arranges it.
    return reinterpret_cast<void*>(static_cast<std::intptr_t>(start.func(start.arg)));
}

int c11_result(int e) {
    switch (e) {
        case 0:
            return thrd_success;
        case ENOMEM:
        case EAGAIN:
            return thrd_nomem;
        case ETIMEDOUT:
            return thrd_timedout;
        case EBUSY:
            return thrd_busy;
        default:
            return thrd_error;
    }
}

pthread_mutex_t* as_pthread(mtx_t* m) {
    return reinterpret_cast<pthread_mutex_t*>(m);
}
pthread_cond_t* as_pthread(cnd_t* c) {
    return reinterpret_cast<pthread_cond_t*>(c);
}

}  // namespace

extern "C" {

int thrd_create(thrd_t* thr, thrd_start_t func, void* arg) {
    auto* start = new (std::nothrow) thread_start{func, arg};
    if (!start) return thrd_nomem;
    const int e = pthread_create(thr, nullptr, run_thread, start);
    if (e != 0) delete start;
    return c11_result(e);
}

int thrd_join(thrd_t thr, int* res) {
    void* value = nullptr;
    const int e = pthread_join(thr, &value);
    if (e == 0 && res) *res = static_cast<int>(reinterpret_cast<std::intptr_t>(value));
    return c11_result(e);
}

int thrd_detach(thrd_t thr) {
    return c11_result(pthread_detach(thr));
}

int mtx_init(mtx_t* m, int type) {
    pthread_mutexattr_t attr;
    pthread_mutexattr_init(&attr);
    if (type & mtx_recursive) pthread_mutexattr_settype(&attr, PTHREAD_MUTEX_RECURSIVE);
    const int e = pthread_mutex_init(as_pthread(m), &attr);
    pthread_mutexattr_destroy(&attr);
    return c11_result(e);
}
int mtx_lock(mtx_t* m) {
    return c11_result(pthread_mutex_lock(as_pthread(m)));
}
int mtx_trylock(mtx_t* m) {
    return c11_result(pthread_mutex_trylock(as_pthread(m)));
}
int mtx_timedlock(mtx_t* m, const struct timespec* until) {
    return c11_result(pthread_mutex_timedlock(as_pthread(m), until));
}
int mtx_unlock(mtx_t* m) {
    return c11_result(pthread_mutex_unlock(as_pthread(m)));
}
void mtx_destroy(mtx_t* m) {
    pthread_mutex_destroy(as_pthread(m));
}

int cnd_init(cnd_t* c) {
    return c11_result(pthread_cond_init(as_pthread(c), nullptr));
}
int cnd_signal(cnd_t* c) {
    return c11_result(pthread_cond_signal(as_pthread(c)));
}
int cnd_broadcast(cnd_t* c) {
    return c11_result(pthread_cond_broadcast(as_pthread(c)));
}
int cnd_wait(cnd_t* c, mtx_t* m) {
    return c11_result(pthread_cond_wait(as_pthread(c), as_pthread(m)));
}
int cnd_timedwait(cnd_t* c, mtx_t* m, const struct timespec* until) {
    return c11_result(pthread_cond_timedwait(as_pthread(c), as_pthread(m), until));
}
void cnd_destroy(cnd_t* c) {
    pthread_cond_destroy(as_pthread(c));
}

void call_once(once_flag* flag, void (*func)(void)) {
    pthread_once(reinterpret_cast<pthread_once_t*>(flag), func);
}

}  // extern "C"

// librdkafka itself is not instrumented: the runtime sees only the calls it makes into the C
// library (malloc, free, memcpy), never its atomics, so a buffer that a librdkafka thread frees
// after dropping the last reference looks unordered with the application's read of it. Those
// calls are left out; the application's own accesses are checked as always.
extern "C" const char* __tsan_default_suppressions() { return "called_from_lib:librdkafka.so.1\n"; }
