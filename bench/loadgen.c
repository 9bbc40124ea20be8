/*
 * Open-loop load generator for the daemon bench (bench/daemon.ts builds it
 * with the system C compiler when there is one). It speaks the daemon's frame
 * protocol (docs/protocol.md) over Unix sockets from one thread with epoll,
 * so that the load generator's own pauses (a garbage collector, a timer
 * wheel) stay out of the latency it reports.
 *
 *   loadgen SOCKET STEPS CONNS RATE WARMUP_MS DURATION_MS VM_PREFIX
 *   loadgen --hiccup SECONDS
 *   loadgen --serve SOCKET
 *
 * STEPS is written by bench/daemon.ts: u32 trace count, then per trace a u32
 * step count and per step: u8 expected answer type, u8 is-MM-request, u32
 * frame length, the frame. Connection i replays trace i mod T in a loop,
 * starting at an evenly spread position among the connections that share the
 * trace. Requests go out on a fixed schedule (RATE per second over all
 * connections, phases staggered); latency counts from each request's
 * scheduled send time, so an answer that comes late delays the requests
 * queued behind it and is charged to them (wrk2). A RESET step goes out in
 * the slot of the request after it, whose latency then holds the reset too.
 *
 * --hiccup measures the machine instead: it spins reading the clock and
 * reports every gap longer than 100 µs, time in which this thread did not run
 * (another thread, the kernel, or the hypervisor had its CPU). Run one per
 * core, it is the floor under any latency measured here.
 *
 * --serve is the floor the daemon is measured against: the least a server of
 * this protocol can do. One thread, epoll, no allocation per request: HELLO
 * is answered HELLO_OK, RESET RESET_OK, an MM_REQUEST an MM_REPLY that echoes
 * the request's buffer (as a real reply writes the buffer back). It runs
 * until killed.
 *
 * Prints one JSON object; exits 3 on a protocol surprise (an answer of the
 * wrong type, a closed connection), 2 on a usage or system error.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

struct step { uint8_t expect, is_request; uint32_t len; const uint8_t *frame; };
struct trace { uint32_t n; struct step *steps; };

struct conn {
	int fd;
	const struct trace *tr;
	uint32_t pos;
	uint8_t expect;		/* answer type awaited, 0 when idle */
	double origin;		/* scheduled time of the request in flight, µs */
	double *backlog;	/* scheduled times that came due while busy (ring) */
	uint32_t head, tail, cap;
	uint8_t *buf;
	uint32_t have, size;
};

static double window_start, window_end;
static double *lat;
static size_t nlat, caplat, answered, late_sends;

static double now_us(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec * 1e6 + t.tv_nsec / 1e3;
}

static void die(const char *what)
{
	fprintf(stderr, "loadgen: %s: %s\n", what, strerror(errno));
	exit(2);
}

static void surprise(const struct conn *c, const char *what, unsigned v)
{
	fprintf(stderr, "loadgen: connection fd %d, trace step %u: %s 0x%02x (expected 0x%02x)\n", c->fd, c->pos, what, v, c->expect);
	exit(3);
}

static void write_all(int fd, const uint8_t *b, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, b, n);
		if (w < 0) {
			if (errno == EINTR || errno == EAGAIN)
				continue;
			die("write");
		}
		b += w;
		n -= (size_t)w;
	}
}

static void send_step(struct conn *c)
{
	const struct step *s = &c->tr->steps[c->pos];
	c->expect = s->expect;
	write_all(c->fd, s->frame, s->len);
}

static void begin(struct conn *c, double origin)
{
	c->origin = origin;
	send_step(c);
}

static void on_frame(struct conn *c, uint8_t type)
{
	if (type != c->expect)
		surprise(c, "answer of type", type);
	const struct step *s = &c->tr->steps[c->pos];
	c->pos = c->pos + 1 == c->tr->n ? 0 : c->pos + 1;
	if (!s->is_request) {	/* the reset went through: its request follows in the same slot */
		send_step(c);
		return;
	}
	c->expect = 0;
	answered++;
	if (c->origin >= window_start && c->origin < window_end) {
		if (nlat == caplat) {
			caplat *= 2;
			if (!(lat = realloc(lat, caplat * sizeof *lat)))
				die("realloc");
		}
		lat[nlat++] = now_us() - c->origin;
	}
	if (c->head != c->tail) {
		double o = c->backlog[c->head];
		c->head = (c->head + 1) % c->cap;
		begin(c, o);
	}
}

static void on_readable(struct conn *c)
{
	for (;;) {
		if (c->size - c->have < 65536) {
			c->size *= 2;
			if (!(c->buf = realloc(c->buf, c->size)))
				die("realloc");
		}
		ssize_t r = read(c->fd, c->buf + c->have, c->size - c->have);
		if (r < 0) {
			if (errno == EAGAIN)
				return;
			if (errno == EINTR)
				continue;
			die("read");
		}
		if (r == 0)
			surprise(c, "connection closed by the daemon; last type", 0);
		c->have += (uint32_t)r;
		uint32_t off = 0;
		while (c->have - off >= 5) {
			uint32_t len;
			memcpy(&len, c->buf + off, 4);
			if (len == 0 || len > (1u << 20))
				surprise(c, "frame length out of range, type", c->buf[off + 4]);
			if (c->have - off - 4 < len)
				break;
			on_frame(c, c->buf[off + 4]);
			off += 4 + len;
		}
		memmove(c->buf, c->buf + off, c->have - off);
		c->have -= off;
	}
}

static struct trace *read_steps(const char *path, uint32_t *count)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		die(path);
	if (fseek(f, 0, SEEK_END) != 0)
		die(path);
	long size = ftell(f);
	rewind(f);
	uint8_t *b = malloc((size_t)size);
	if (!b || fread(b, 1, (size_t)size, f) != (size_t)size)
		die(path);
	fclose(f);
	const uint8_t *p = b, *end = b + size;
#define NEED(n) do { if ((size_t)(end - p) < (size_t)(n)) { fprintf(stderr, "loadgen: %s: truncated\n", path); exit(2); } } while (0)
	NEED(4);
	memcpy(count, p, 4);
	p += 4;
	struct trace *t = calloc(*count, sizeof *t);
	for (uint32_t i = 0; i < *count; i++) {
		NEED(4);
		memcpy(&t[i].n, p, 4);
		p += 4;
		if (t[i].n == 0) {
			fprintf(stderr, "loadgen: %s: trace %u has no step\n", path, i);
			exit(2);
		}
		t[i].steps = calloc(t[i].n, sizeof(struct step));
		for (uint32_t k = 0; k < t[i].n; k++) {
			struct step *s = &t[i].steps[k];
			NEED(6);
			s->expect = p[0];
			s->is_request = p[1];
			memcpy(&s->len, p + 2, 4);
			p += 6;
			NEED(s->len);
			s->frame = p;
			p += s->len;
		}
	}
	return t;
}

/* Connect and say HELLO; blocking, before the schedule starts. */
static void hello(struct conn *c, const char *path, const char *id)
{
	c->fd = socket(AF_UNIX, SOCK_STREAM, 0);
	if (c->fd < 0)
		die("socket");
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	if (strlen(path) >= sizeof a.sun_path) {
		fprintf(stderr, "loadgen: socket path too long\n");
		exit(2);
	}
	strcpy(a.sun_path, path);
	if (connect(c->fd, (struct sockaddr *)&a, sizeof a) < 0)
		die("connect");
	size_t idlen = strlen(id);
	uint8_t h[128];
	uint32_t len = (uint32_t)(1 + 4 + idlen);
	memcpy(h, &len, 4);
	h[4] = 0x01;		/* HELLO */
	h[5] = 1; h[6] = 0;	/* version 1 */
	h[7] = 0; h[8] = 0;	/* flags */
	memcpy(h + 9, id, idlen);
	write_all(c->fd, h, 4 + len);
	uint8_t r[64];
	size_t got = 0;
	uint32_t rlen = 0;
	while (got < 5 || got < 4 + (size_t)rlen) {
		ssize_t n = read(c->fd, r + got, sizeof r - got);
		if (n <= 0)
			die("HELLO");
		got += (size_t)n;
		if (got >= 4)
			memcpy(&rlen, r, 4);
		if (rlen > sizeof r - 4) {
			fprintf(stderr, "loadgen: HELLO answered with %u bytes\n", rlen);
			exit(3);
		}
	}
	if (r[4] != 0x81) {	/* HELLO_OK */
		fprintf(stderr, "loadgen: HELLO answered type 0x%02x\n", r[4]);
		exit(3);
	}
	if (fcntl(c->fd, F_SETFL, O_NONBLOCK) < 0)
		die("fcntl");
}

static int by_value(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

static double pct(const double *v, size_t n, double p)
{
	return n ? v[(size_t)((double)(n - 1) * p / 100.0)] : 0;
}

static int hiccup(double seconds)
{
	static const double bounds[] = { 500, 1000, 2000, 5000 };
	size_t over[4] = { 0 };
	double t0 = now_us(), last = t0, stalled = 0, worst = 0;
	while (last - t0 < seconds * 1e6) {
		double t = now_us(), gap = t - last;
		if (gap > 100) {
			stalled += gap;
			if (gap > worst)
				worst = gap;
			for (int i = 0; i < 4; i++)
				over[i] += gap > bounds[i];
		}
		last = t;
	}
	printf("{\"over500us\":%zu,\"over1ms\":%zu,\"over2ms\":%zu,\"over5ms\":%zu,\"maxUs\":%.0f,\"stalledShare\":%.5f}\n",
	       over[0], over[1], over[2], over[3], worst, stalled / (last - t0));
	return 0;
}

struct peer { int fd; uint8_t *buf; uint32_t have; };

__attribute__((noreturn)) static void serve(const char *path)
{
	int ls = socket(AF_UNIX, SOCK_STREAM, 0);
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	if (ls < 0 || strlen(path) >= sizeof a.sun_path)
		die("socket");
	strcpy(a.sun_path, path);
	unlink(path);
	if (bind(ls, (struct sockaddr *)&a, sizeof a) < 0 || listen(ls, 1024) < 0)
		die("bind/listen");
	int ep = epoll_create1(0);
	struct epoll_event lev = { .events = EPOLLIN, .data.ptr = NULL };
	if (ep < 0 || epoll_ctl(ep, EPOLL_CTL_ADD, ls, &lev) < 0)
		die("epoll");
	static const uint8_t hello_ok[] = { 9, 0, 0, 0, 0x81, 1, 0, 0, 0, 0x00, 0x01, 0x01, 0x00 };
	static const uint8_t reset_ok[] = { 1, 0, 0, 0, 0x83 };
	enum { CAP = 1 << 18 };
	uint8_t *out = malloc(CAP);
	struct epoll_event evs[128];
	if (!out)
		die("malloc");
	for (;;) {
		int n = epoll_wait(ep, evs, 128, -1);
		if (n < 0 && errno != EINTR)
			die("epoll_wait");
		for (int i = 0; i < n; i++) {
			struct peer *p = evs[i].data.ptr;
			if (!p) {
				int fd = accept4(ls, NULL, NULL, SOCK_NONBLOCK);
				if (fd < 0)
					continue;
				p = calloc(1, sizeof *p);
				if (!p || !(p->buf = malloc(CAP)))
					die("malloc");
				p->fd = fd;
				struct epoll_event ev = { .events = EPOLLIN, .data.ptr = p };
				epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
				continue;
			}
			ssize_t r = read(p->fd, p->buf + p->have, CAP - p->have);
			if (r <= 0) {
				if (r < 0 && (errno == EAGAIN || errno == EINTR))
					continue;
				close(p->fd);
				free(p->buf);
				free(p);
				continue;
			}
			p->have += (uint32_t)r;
			uint32_t off = 0;
			int bad = 0;
			while (p->have - off >= 5) {
				uint32_t len;
				memcpy(&len, p->buf + off, 4);
				if (len == 0 || len > CAP - 8) {
					bad = 1;
					break;
				}
				if (p->have - off - 4 < len)
					break;
				const uint8_t *f = p->buf + off + 4;
				if (f[0] == 0x01) {
					write_all(p->fd, hello_ok, sizeof hello_ok);
				} else if (f[0] == 0x03) {
					write_all(p->fd, reset_ok, sizeof reset_ok);
				} else if (f[0] == 0x02 && len >= 5) {
					uint32_t body = len - 5;	/* type, u32 buffer size */
					uint32_t rlen = 1 + 2 + body;
					memcpy(out, &rlen, 4);
					out[4] = 0x82;
					out[5] = 0;	/* device status SUCCESS */
					out[6] = 0;	/* no reason */
					memcpy(out + 7, f + 5, body);
					write_all(p->fd, out, 4 + rlen);
				}
				off += 4 + len;
			}
			if (bad) {
				close(p->fd);
				free(p->buf);
				free(p);
				continue;
			}
			if (p->have > off)
				memmove(p->buf, p->buf + off, p->have - off);
			p->have -= off;
		}
	}
}

int main(int argc, char **argv)
{
	if (argc == 3 && strcmp(argv[1], "--hiccup") == 0)
		return hiccup(atof(argv[2]));
	if (argc == 3 && strcmp(argv[1], "--serve") == 0)
		serve(argv[2]);
	if (argc != 8) {
		fprintf(stderr, "usage: loadgen SOCKET STEPS CONNS RATE WARMUP_MS DURATION_MS VM_PREFIX | loadgen --hiccup SECONDS | loadgen --serve SOCKET\n");
		return 2;
	}
	const char *path = argv[1];
	int conns = atoi(argv[3]);
	double rate = atof(argv[4]), warmup = atof(argv[5]) * 1000, duration = atof(argv[6]) * 1000;
	if (conns <= 0 || rate <= 0 || warmup < 0 || duration <= 0) {
		fprintf(stderr, "loadgen: bad numbers\n");
		return 2;
	}
	uint32_t ntraces;
	struct trace *traces = read_steps(argv[2], &ntraces);
	if (ntraces == 0) {
		fprintf(stderr, "loadgen: no trace\n");
		return 2;
	}
	int ep = epoll_create1(0);
	if (ep < 0)
		die("epoll_create1");
	struct conn *cs = calloc((size_t)conns, sizeof *cs);
	for (int i = 0; i < conns; i++) {
		struct conn *c = &cs[i];
		char id[80];
		snprintf(id, sizeof id, "%s-%d", argv[7], i);
		hello(c, path, id);
		c->tr = &traces[(uint32_t)i % ntraces];
		uint32_t peers = ((uint32_t)conns - (uint32_t)i % ntraces + ntraces - 1) / ntraces;
		c->pos = (uint32_t)((uint64_t)c->tr->n * ((uint32_t)i / ntraces) / peers);
		c->cap = 4096;
		c->backlog = malloc(c->cap * sizeof(double));
		c->size = 131072;
		c->buf = malloc(c->size);
		if (!c->backlog || !c->buf)
			die("malloc");
		struct epoll_event ev = { .events = EPOLLIN, .data.ptr = c };
		if (epoll_ctl(ep, EPOLL_CTL_ADD, c->fd, &ev) < 0)
			die("epoll_ctl");
	}
	size_t slots = (size_t)(rate * (warmup + duration) / 1e6);
	caplat = slots + 16;
	lat = malloc(caplat * sizeof *lat);
	double *lag = malloc(caplat * sizeof *lag);
	if (!lat || !lag)
		die("malloc");
	size_t nlag = 0, scheduled = 0, in_window = 0, j = 0;
	double step = 1e6 / rate, t0 = now_us() + 1000;
	window_start = t0 + warmup;
	window_end = window_start + duration;
	struct epoll_event evs[128];
	/* Spin: at these rates the next slot is always microseconds away. */
	while (j < slots || answered < scheduled) {
		double now = now_us();
		for (double t = t0 + (double)j * step; j < slots && t <= now; t = t0 + (double)++j * step) {
			struct conn *c = &cs[j % (size_t)conns];
			int w = t >= window_start && t < window_end;
			scheduled++;
			in_window += (size_t)w;
			if (c->expect) {
				c->backlog[c->tail] = t;
				c->tail = (c->tail + 1) % c->cap;
				if (c->tail == c->head) {
					fprintf(stderr, "loadgen: more than %u requests overdue on one connection\n", c->cap);
					return 3;
				}
				late_sends += (size_t)w;
				continue;
			}
			if (w)
				lag[nlag++] = now - t;
			begin(c, t);
		}
		int n = epoll_wait(ep, evs, 128, 0);
		if (n < 0 && errno != EINTR)
			die("epoll_wait");
		for (int i = 0; i < n; i++)
			on_readable(evs[i].data.ptr);
	}
	qsort(lat, nlat, sizeof *lat, by_value);
	qsort(lag, nlag, sizeof *lag, by_value);
	printf("{\"scheduled\":%zu,\"answered\":%zu,\"seconds\":%.3f,\"p50\":%.1f,\"p90\":%.1f,\"p99\":%.1f,\"p999\":%.1f,\"max\":%.1f,"
	       "\"late\":%zu,\"lagP99\":%.1f,\"lagMax\":%.1f}\n",
	       in_window, nlat, duration / 1e6, pct(lat, nlat, 50), pct(lat, nlat, 90), pct(lat, nlat, 99), pct(lat, nlat, 99.9),
	       nlat ? lat[nlat - 1] : 0, late_sends, pct(lag, nlag, 99), nlag ? lag[nlag - 1] : 0);
	return 0;
}
