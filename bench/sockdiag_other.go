//go:build !linux

package bench

import "errors"

// tcpReceived needs Linux's sock_diag; elsewhere fullsync counts through
// a proxy.
func tcpReceived(pid, port int) (int64, error) {
	return 0, errors.New("sock_diag needs Linux")
}
