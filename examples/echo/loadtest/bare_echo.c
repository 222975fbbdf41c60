/*
 * bare_echo.c: a bare UDP echo in C, independent of our Go code, for
 * examples/echo/loadtest/run.sh bare-c. Every datagram goes back to its
 * sender, read and written in batches of 64 (recvmmsg, blocking for the
 * first datagram only, then sendmmsg), with no protocol and no encryption:
 * what the kernel allows, a second baseline beside `mpgameserver-tools
 * bare-echo`. Linux only.
 *
 *   cc -O2 -o bare_echo examples/echo/loadtest/bare_echo.c
 *   ./bare_echo 127.0.0.1 15000       # prints READY host:port
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

enum { BATCH = 64, SIZE = 2048, BUFFER = 16 << 20 };

static char bufs[BATCH][SIZE];

int main(int argc, char **argv)
{
	/* A job started in the background by a script ignores SIGINT; run.sh
	 * stops the server with it. */
	signal(SIGINT, SIG_DFL);
	if (argc != 3) {
		fprintf(stderr, "usage: %s IPv4-address port\n", argv[0]);
		return 2;
	}
	struct sockaddr_in at = { .sin_family = AF_INET, .sin_port = htons((unsigned short)atoi(argv[2])) };
	if (inet_pton(AF_INET, argv[1], &at.sin_addr) != 1) {
		fprintf(stderr, "bad address %s\n", argv[1]);
		return 2;
	}
	int fd = socket(AF_INET, SOCK_DGRAM, 0);
	if (fd < 0) {
		perror("socket");
		return 1;
	}
	/* The same buffers as bare-echo asks for (the system may cap them). */
	int size = BUFFER;
	setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof size);
	setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &size, sizeof size);
	if (bind(fd, (struct sockaddr *)&at, sizeof at) < 0) {
		perror("bind");
		return 1;
	}
	printf("READY %s:%s\n", argv[1], argv[2]);
	fflush(stdout);

	struct mmsghdr msgs[BATCH];
	struct iovec iov[BATCH];
	struct sockaddr_in from[BATCH];
	memset(msgs, 0, sizeof msgs);
	for (int i = 0; i < BATCH; i++) {
		iov[i].iov_base = bufs[i];
		msgs[i].msg_hdr.msg_iov = &iov[i];
		msgs[i].msg_hdr.msg_iovlen = 1;
		msgs[i].msg_hdr.msg_name = &from[i];
	}
	for (;;) {
		for (int i = 0; i < BATCH; i++) {
			iov[i].iov_len = SIZE;
			msgs[i].msg_hdr.msg_namelen = sizeof from[i];
		}
		int n = recvmmsg(fd, msgs, BATCH, MSG_WAITFORONE, NULL);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			perror("recvmmsg");
			return 1;
		}
		for (int i = 0; i < n; i++)
			iov[i].iov_len = msgs[i].msg_len;
		for (int sent = 0; sent < n;) {
			int k = sendmmsg(fd, msgs + sent, (unsigned)(n - sent), 0);
			if (k < 0) {
				if (errno == EINTR)
					continue;
				sent++; /* msgs[sent] could not be sent: skip it */
				continue;
			}
			sent += k;
		}
	}
}
