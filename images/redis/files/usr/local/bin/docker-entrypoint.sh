#!/bin/sh
# Shaped like the official redis image's entrypoint: options alone run redis-server, and as root the server drops to
# user redis after taking /data.
set -e

if [ "${1#-}" != "$1" ] || [ "${1%.conf}" != "$1" ]; then
	set -- redis-server "$@"
fi

if [ "$1" = 'redis-server' ] && [ "$(id -u)" = '0' ]; then
	mkdir -p /data
	chown redis:redis /data
	exec setpriv --reuid=redis --regid=redis --init-groups /usr/local/bin/docker-entrypoint.sh "$@"
fi

if [ "$1" = 'redis-server' ]; then
	# Clients reach the server through the VM's NAT, never from loopback: protected mode would refuse every one.
	set -- "$@" --protected-mode no
fi

exec "$@"
