//go:build !unix

package server

// watchDisconnect cannot peek at a socket on this platform: a blocked
// client that disconnects stays registered until its timeout or until it
// is served.
func watchDisconnect(cl *client) (gone <-chan struct{}, stop func()) {
	return make(chan struct{}), func() {}
}
