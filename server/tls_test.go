package server

import (
	"bufio"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/walrus-kv/walrus/server/config"
)

// testPKI is a throwaway CA with a node certificate (127.0.0.1, server
// and client use), a client certificate, and a client certificate from
// another CA.
type testPKI struct {
	caFile, certFile, keyFile string
	pool                      *x509.CertPool
	client, rogue             tls.Certificate
}

func newTestPKI(t testing.TB) *testPKI {
	t.Helper()
	dir := t.TempDir()
	caKey, caCert := newCA(t, "walrus test CA")
	rogueKey, rogueCert := newCA(t, "rogue CA")
	p := &testPKI{
		caFile:   filepath.Join(dir, "ca.crt"),
		certFile: filepath.Join(dir, "node.crt"),
		keyFile:  filepath.Join(dir, "node.key"),
		pool:     x509.NewCertPool(),
	}
	p.pool.AddCert(caCert)
	writePEM(t, p.caFile, "CERTIFICATE", caCert.Raw)
	nodeDER, nodeKey := newLeaf(t, caCert, caKey, "node", []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth})
	writePEM(t, p.certFile, "CERTIFICATE", nodeDER)
	keyDER, err := x509.MarshalECPrivateKey(nodeKey)
	if err != nil {
		t.Fatal(err)
	}
	writePEM(t, p.keyFile, "EC PRIVATE KEY", keyDER)
	clientDER, clientKey := newLeaf(t, caCert, caKey, "client", []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth})
	p.client = tls.Certificate{Certificate: [][]byte{clientDER}, PrivateKey: clientKey}
	rogueDER, rogueLeafKey := newLeaf(t, rogueCert, rogueKey, "rogue", []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth})
	p.rogue = tls.Certificate{Certificate: [][]byte{rogueDER}, PrivateKey: rogueLeafKey}
	return p
}

func newCA(t testing.TB, name string) (*ecdsa.PrivateKey, *x509.Certificate) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: name},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(24 * time.Hour),
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return key, cert
}

func newLeaf(t testing.TB, ca *x509.Certificate, caKey *ecdsa.PrivateKey, name string, usage []x509.ExtKeyUsage) ([]byte, *ecdsa.PrivateKey) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	serial, _ := rand.Int(rand.Reader, big.NewInt(1<<62))
	tmpl := &x509.Certificate{
		SerialNumber: serial,
		Subject:      pkix.Name{CommonName: name},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  usage,
		IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1)},
		DNSNames:     []string{"localhost"},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	return der, key
}

func writePEM(t testing.TB, path, kind string, der []byte) {
	t.Helper()
	if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: kind, Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
}

// tlsArgs are the directives of a TLS-only node (port 0) using p.
func (p *testPKI) tlsArgs(t testing.TB, auth string) []string {
	return []string{"--port", "0", "--tls-port", itoa(freePort(t)), "--tls-cert-file", p.certFile,
		"--tls-key-file", p.keyFile, "--tls-ca-cert-file", p.caFile, "--tls-auth-clients", auth}
}

// clientConfig trusts the test CA and presents cert, if any, whenever
// the server asks for one (even when its CA is not one the server names).
func (p *testPKI) clientConfig(cert *tls.Certificate) *tls.Config {
	c := &tls.Config{RootCAs: p.pool, ServerName: "127.0.0.1", MinVersion: tls.VersionTLS12}
	if cert != nil {
		c.GetClientCertificate = func(*tls.CertificateRequestInfo) (*tls.Certificate, error) { return cert, nil }
	}
	return c
}

// dialRawTLS is dialRaw over TLS.
func dialRawTLS(t testing.TB, addr string, conf *tls.Config) *rawConn {
	t.Helper()
	d := &net.Dialer{Timeout: 5 * time.Second}
	c, err := tls.DialWithDialer(d, "tcp", addr, conf)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return &rawConn{t: t, c: c, rd: bufio.NewReader(c)}
}

// tlsPing dials addr with conf and reports whether PING got PONG.
func tlsPing(addr string, conf *tls.Config) bool {
	d := &net.Dialer{Timeout: 5 * time.Second}
	c, err := tls.DialWithDialer(d, "tcp", addr, conf)
	if err != nil {
		return false
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := c.Write([]byte("*1\r\n$4\r\nPING\r\n")); err != nil {
		return false
	}
	line, err := bufio.NewReader(c).ReadString('\n')
	return err == nil && line == "+PONG\r\n"
}

func TestTLSOnlyServerServesGoRedis(t *testing.T) {
	p := newTestPKI(t)
	s := startServer(t, p.tlsArgs(t, "yes")...)
	if s.TLSAddr() == nil || s.Addr().String() != s.TLSAddr().String() {
		t.Fatalf("port 0 should leave only the TLS listener: Addr %v, TLSAddr %v", s.Addr(), s.TLSAddr())
	}
	c := redis.NewClient(&redis.Options{Addr: s.TLSAddr().String(), Protocol: 2, MaxRetries: -1, TLSConfig: p.clientConfig(&p.client)})
	t.Cleanup(func() { c.Close() })
	ctx := context.Background()
	if err := c.Set(ctx, "k", "over tls", 0).Err(); err != nil {
		t.Fatal(err)
	}
	if v, err := c.Get(ctx, "k").Result(); err != nil || v != "over tls" {
		t.Fatalf("GET over TLS = %q, %v", v, err)
	}
	// Plain RESP on the TLS port gets no reply.
	raw, err := net.DialTimeout("tcp", s.TLSAddr().String(), 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	raw.SetDeadline(time.Now().Add(5 * time.Second))
	raw.Write([]byte("*1\r\n$4\r\nPING\r\n"))
	if line, _ := bufio.NewReader(raw).ReadString('\n'); strings.Contains(line, "PONG") {
		t.Fatalf("plain-text PING answered on the TLS port: %q", line)
	}
}

func TestTLSAuthClientsModes(t *testing.T) {
	p := newTestPKI(t)
	s := startServer(t, p.tlsArgs(t, "yes")...)
	addr := s.TLSAddr().String()
	admin := dialRawTLS(t, addr, p.clientConfig(&p.client))
	cases := []struct {
		mode                string
		noCert, good, rogue bool // served?
	}{
		{"yes", false, true, false},
		{"no", true, true, true}, // not asked: a rogue certificate is never sent
		{"optional", true, true, false},
	}
	for _, tc := range cases {
		t.Run(tc.mode, func(t *testing.T) {
			if got := admin.do("CONFIG", "SET", "tls-auth-clients", tc.mode); got != "+OK" {
				t.Fatalf("CONFIG SET tls-auth-clients %s: %q", tc.mode, got)
			}
			if got := tlsPing(addr, p.clientConfig(nil)); got != tc.noCert {
				t.Errorf("client without a certificate served = %v, want %v", got, tc.noCert)
			}
			if got := tlsPing(addr, p.clientConfig(&p.client)); got != tc.good {
				t.Errorf("client with a CA-signed certificate served = %v, want %v", got, tc.good)
			}
			if got := tlsPing(addr, p.clientConfig(&p.rogue)); got != tc.rogue {
				t.Errorf("client with a certificate from another CA served = %v, want %v", got, tc.rogue)
			}
		})
	}
	// A server certificate from an unknown CA is refused by the client.
	stranger := p.clientConfig(&p.client)
	stranger.RootCAs = x509.NewCertPool()
	if tlsPing(addr, stranger) {
		t.Fatal("client accepted a server certificate it cannot verify")
	}
}

func TestTLSAndPlainListenersSideBySide(t *testing.T) {
	p := newTestPKI(t)
	s := startServer(t, "--tls-port", itoa(freePort(t)), "--tls-cert-file", p.certFile, "--tls-key-file", p.keyFile, "--tls-auth-clients", "no")
	if s.TLSAddr() == nil || s.Addr().String() == s.TLSAddr().String() {
		t.Fatalf("want a plain and a TLS listener: Addr %v, TLSAddr %v", s.Addr(), s.TLSAddr())
	}
	plain := dialRaw(t, s.Addr().String())
	plain.do("SET", "k", "v")
	secure := dialRawTLS(t, s.TLSAddr().String(), p.clientConfig(nil))
	if got := secure.do("GET", "k"); got != "$v" {
		t.Fatalf("GET over TLS: %q", got)
	}
	if got := secure.do("CLIENT", "INFO"); !strings.Contains(got, "laddr="+s.TLSAddr().String()) {
		t.Fatalf("CLIENT INFO over TLS: %q", got)
	}
}

func TestTLSConfigErrorsStopStart(t *testing.T) {
	p := newTestPKI(t)
	cases := []struct {
		name string
		args []string
		want string
	}{
		{"no listener at all", []string{"--port", "0"}, "port and tls-port are both 0"},
		{"tls-port without a certificate", []string{"--tls-port", "1"}, "tls-cert-file"},
		{"client auth without a CA", []string{"--tls-port", "1", "--tls-cert-file", p.certFile, "--tls-key-file", p.keyFile}, "tls-ca-cert-file"},
		{"replication without a CA", []string{"--tls-replication", "yes"}, "tls-ca-cert-file"},
		{"unreadable key", []string{"--tls-port", "1", "--tls-cert-file", p.certFile, "--tls-key-file", p.caFile, "--tls-auth-clients", "no"}, "tls-key-file"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			args := append([]string{"--port", itoa(freePort(t)), "--dir", t.TempDir(), "--save", ""}, tc.args...)
			cfg, err := config.Load("", args)
			if err != nil {
				t.Fatalf("config: %v", err)
			}
			s, err := New(cfg, discardLogger())
			if err == nil {
				s.Serve(canceled())
				t.Fatalf("started with %v", tc.args)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %q does not mention %q", err, tc.want)
			}
		})
	}
}

func canceled() context.Context {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	return ctx
}

func TestTLSReplicaConvergesWithTLSMaster(t *testing.T) {
	p := newTestPKI(t)
	m := startServer(t, append(p.tlsArgs(t, "yes"), "--save", "")...)
	mc := dialRawTLS(t, m.TLSAddr().String(), p.clientConfig(&p.client))
	for i := 0; i < 200; i++ {
		mc.do("SET", "k"+itoa(i), itoa(i))
	}
	host, port, _ := strings.Cut(m.TLSAddr().String(), ":")
	r := startServer(t, "--replicaof", host, port, "--tls-replication", "yes",
		"--tls-cert-file", p.certFile, "--tls-key-file", p.keyFile, "--tls-ca-cert-file", p.caFile)
	rc := dialRaw(t, r.Addr().String())
	waitFor(t, "TLS link up", 20*time.Second, func() bool { return infoField(t, rc, "replication", "master_link_status") == "up" })
	mc.do("SET", "after", "sync")
	mc.do("INCRBY", "n", "7")
	waitConverged(t, mc, rc)
	if got := rc.do("GET", "after"); got != "$sync" {
		t.Fatalf("replica GET after = %q", got)
	}
}

func TestReplicaWithoutTLSCannotReachTLSMaster(t *testing.T) {
	p := newTestPKI(t)
	m := startServer(t, append(p.tlsArgs(t, "yes"), "--save", "")...)
	host, port, _ := strings.Cut(m.TLSAddr().String(), ":")
	r, logs := startLogged(t, "--replicaof", host, port)
	rc := dialRaw(t, r.Addr().String())
	waitFor(t, "a log line about the lost link", 20*time.Second, func() bool {
		return strings.Contains(logs.String(), "connection with master lost")
	})
	if got := infoField(t, rc, "replication", "master_link_status"); got != "down" {
		t.Fatalf("plain replica's link to a TLS master is %q", got)
	}
}
