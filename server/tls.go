package server

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"os"
	"strconv"
	"sync/atomic"

	"github.com/tidwall/redcon"
	"github.com/walrus-kv/walrus/server/config"
)

// TLS, as Redis's tls-* directives describe it:
//
//   - tls-port opens a second listener (on every bind address) speaking
//     TLS; `port 0` leaves TLS as the only way in. The TLS listener sits
//     under the same protocol guard and accept rules as the plain one.
//   - tls-cert-file / tls-key-file are the node's certificate, served to
//     clients and, with tls-replication, presented to its master as a
//     client certificate (so give it both the serverAuth and clientAuth
//     extended key usages).
//   - tls-ca-cert-file verifies client certificates and, for a replica,
//     its master's certificate.
//   - tls-auth-clients yes|no|optional: a client certificate signed by the
//     CA is required, not asked for, or checked when given. CONFIG SET
//     changes it for new connections.
//   - tls-replication yes: the replica link dials its master with TLS.
//
// Certificates are read once at start.

// tlsListener marks the listeners that speak TLS (TLSAddr finds them).
type tlsListener struct{ net.Listener }

// errNoTLSCA is Redis's refusal when a CA is needed but missing.
var errNoTLSCA = errors.New("tls-ca-cert-file must be specified when tls-replication or tls-auth-clients are enabled")

// tlsServerConfigs is the server side: one tls.Config per tls-auth-clients
// mode, chosen at each handshake from mode.
type tlsServerConfigs struct {
	mode    atomic.Int32 // index into byMode
	byMode  [3]*tls.Config
	hasPool bool
}

var tlsAuthModes = map[string]int32{"no": 0, "yes": 1, "optional": 2}

// loadTLS reads the certificate, key and CA the config names and returns
// the server side (nil when tls-port is 0) and the replica link's client
// side (nil when tls-replication is no).
func loadTLS(cfg *config.Config) (*tlsServerConfigs, *tls.Config, error) {
	cfg.RLock()
	port, certFile, keyFile, caFile := cfg.TLSPort, cfg.TLSCertFile, cfg.TLSKeyFile, cfg.TLSCACertFile
	repl, auth := cfg.TLSReplication, cfg.TLSAuthClients
	cfg.RUnlock()
	if port == 0 && !repl {
		return nil, nil, nil
	}
	var certs []tls.Certificate
	if certFile != "" || keyFile != "" {
		cert, err := tls.LoadX509KeyPair(certFile, keyFile)
		if err != nil {
			return nil, nil, fmt.Errorf("load tls-cert-file %s / tls-key-file %s: %w", certFile, keyFile, err)
		}
		certs = []tls.Certificate{cert}
	}
	var pool *x509.CertPool
	if caFile != "" {
		pem, err := os.ReadFile(caFile)
		if err != nil {
			return nil, nil, fmt.Errorf("read tls-ca-cert-file: %w", err)
		}
		pool = x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, nil, fmt.Errorf("tls-ca-cert-file %s: no PEM certificate found", caFile)
		}
	}
	var client *tls.Config
	if repl {
		if pool == nil {
			return nil, nil, errNoTLSCA
		}
		client = &tls.Config{Certificates: certs, RootCAs: pool, MinVersion: tls.VersionTLS12}
	}
	if port == 0 {
		return nil, client, nil
	}
	if len(certs) == 0 {
		return nil, nil, errors.New("tls-port requires tls-cert-file and tls-key-file")
	}
	srv := &tlsServerConfigs{hasPool: pool != nil}
	for mode, ca := range []tls.ClientAuthType{tls.NoClientCert, tls.RequireAndVerifyClientCert, tls.VerifyClientCertIfGiven} {
		srv.byMode[mode] = &tls.Config{Certificates: certs, ClientCAs: pool, ClientAuth: ca, MinVersion: tls.VersionTLS12}
	}
	if err := srv.setMode(auth); err != nil {
		return nil, nil, err
	}
	return srv, client, nil
}

// setMode selects tls-auth-clients for new connections.
func (t *tlsServerConfigs) setMode(auth string) error {
	m, ok := tlsAuthModes[auth]
	if !ok {
		return fmt.Errorf("tls-auth-clients %q: want yes, no or optional", auth)
	}
	if m != 0 && !t.hasPool {
		return errNoTLSCA
	}
	t.mode.Store(m)
	return nil
}

// config is the tls.Config the listener starts from: it defers to the
// current mode at each handshake.
func (t *tlsServerConfigs) config() *tls.Config {
	return &tls.Config{
		MinVersion: tls.VersionTLS12,
		GetConfigForClient: func(*tls.ClientHelloInfo) (*tls.Config, error) {
			return t.byMode[t.mode.Load()], nil
		},
	}
}

// listenTLS opens the tls-port listeners when tls-port is set, and keeps
// the replica link's TLS settings.
func (s *Server) listenTLS(binds []string) error {
	srv, client, err := loadTLS(s.cfg)
	if err != nil {
		return err
	}
	s.tlsClient = client
	if srv == nil {
		return nil
	}
	s.cfg.OnChange("tls-auth-clients", func(c *config.Config) error { return srv.setMode(c.TLSAuthClients) })
	conf := srv.config()
	for _, b := range binds {
		ln, err := s.listenTCP(net.JoinHostPort(b, strconv.Itoa(s.cfg.TLSPort)))
		if err != nil {
			return fmt.Errorf("listen (tls) on %s:%d: %w", b, s.cfg.TLSPort, err)
		}
		s.listeners = append(s.listeners, tlsListener{tls.NewListener(ln, conf)})
		s.servers = append(s.servers, redcon.NewServerNetwork("tcp", ln.Addr().String(), s.handle, s.accept, s.closed))
	}
	return nil
}

// TLSAddr is the first tls-port listening address; nil when TLS is off.
func (s *Server) TLSAddr() net.Addr {
	for _, ln := range s.listeners {
		if t, ok := ln.(tlsListener); ok {
			return t.Addr()
		}
	}
	return nil
}
