// Package slapdtest starts a real OpenLDAP server (Debian's slapd) for
// tests: a temporary cn=config and mdb database under the test's temporary
// folder, on a free loopback port, with the memberof overlay, seeded over
// LDAP (so that the overlay fills memberOf) from an LDIF, and optionally
// with LDAPS and StartTLS under a test CA made in the test. It installs
// nothing: without slapd and ldap-utils the test fails and says to run
// scripts/test.sh (which installs them).
package slapdtest

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/caddy-mfa/caddy-mfa/internal/netport"
)

// Suffix, RootDN and RootPassword are the test database's naming context
// and its administrator.
const (
	Suffix       = "dc=example,dc=org"
	RootDN       = "cn=admin," + Suffix
	RootPassword = "admin-secret"
)

// Options configure a server.
type Options struct {
	// LDIF is added over LDAP once the server runs (the base entry
	// exists already). Default: Seed.
	LDIF string
	// TLS adds an ldaps:// listener and StartTLS on the plain one, with a
	// certificate from a CA made in the test (Server.CA).
	TLS bool
	// ADSchema loads the small schema of AD-shaped attributes
	// (sAMAccountName, userPrincipalName, userAccountControl, auxiliary class
	// user).
	ADSchema bool
}

// Server is one running slapd.
type Server struct {
	// URL is ldap://127.0.0.1:PORT.
	URL string
	// LDAPSURL is ldaps://127.0.0.1:PORT2 with Options.TLS, else "".
	LDAPSURL string
	// CA is the test CA with Options.TLS, else nil.
	CA *CA
	// Port is the plain listener's port.
	Port int

	t      testing.TB
	dir    string
	urls   string
	cmd    *exec.Cmd
	exited chan struct{}
}

// Start starts a slapd seeded from opts.LDIF and stops it when the test
// ends.
func Start(t testing.TB, opts Options) *Server {
	t.Helper()
	for _, bin := range []string{"/usr/sbin/slapd", "/usr/sbin/slapadd"} {
		if _, err := os.Stat(bin); err != nil {
			t.Fatalf("slapdtest: %s is needed: run scripts/test.sh, which installs slapd and ldap-utils (or DEBIAN_FRONTEND=noninteractive apt-get install -y slapd ldap-utils): %v", bin, err)
		}
	}
	for _, bin := range []string{"ldapadd", "ldapmodify", "ldapdelete"} {
		if _, err := exec.LookPath(bin); err != nil {
			t.Fatalf("slapdtest: %s is needed: run scripts/test.sh, which installs slapd and ldap-utils: %v", bin, err)
		}
	}
	dir := t.TempDir()
	s := &Server{t: t, dir: dir, Port: netport.Free(t)}
	s.URL = "ldap://127.0.0.1:" + strconv.Itoa(s.Port) + "/"
	s.urls = s.URL
	var tlsConf string
	if opts.TLS {
		s.CA = NewCA(t, dir)
		s.LDAPSURL = "ldaps://127.0.0.1:" + strconv.Itoa(netport.Free(t)) + "/"
		s.urls += " " + s.LDAPSURL
		tlsConf = fmt.Sprintf("olcTLSCACertificateFile: %s\nolcTLSCertificateFile: %s\nolcTLSCertificateKeyFile: %s\n",
			s.CA.CertFile, s.CA.ServerCertFile, s.CA.ServerKeyFile)
	}
	s.URL = strings.TrimSuffix(s.URL, "/")
	s.LDAPSURL = strings.TrimSuffix(s.LDAPSURL, "/")
	confDir, dbDir := filepath.Join(dir, "slapd.d"), filepath.Join(dir, "db")
	for _, d := range []string{confDir, dbDir} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			t.Fatal(err)
		}
	}
	schema := ""
	if opts.ADSchema {
		schema = "\n" + adSchema
	}
	config := fmt.Sprintf(configLDIF, filepath.Join(dir, "slapd.pid"), tlsConf, schema, dbDir, Suffix, RootDN, RootPassword)
	s.run("slapadd", config, "/usr/sbin/slapadd", "-n0", "-F", confDir)
	s.run("slapadd", "dn: "+Suffix+"\nobjectClass: dcObject\nobjectClass: organization\no: Example\ndc: example\n",
		"/usr/sbin/slapadd", "-n1", "-F", confDir)
	s.Start()
	t.Cleanup(s.Stop)
	ldif := opts.LDIF
	if ldif == "" {
		ldif = Seed
	}
	s.Apply("ldapadd", ldif)
	return s
}

// run runs a command with stdin, failing the test with its output.
func (s *Server) run(what, stdin string, name string, args ...string) {
	s.t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Stdin = strings.NewReader(stdin)
	if out, err := cmd.CombinedOutput(); err != nil {
		s.t.Fatalf("slapdtest: %s: %v\n%s\ninput:\n%s", what, err, out, stdin)
	}
}

// Apply runs tool ("ldapadd", "ldapmodify" or "ldapdelete") as the
// administrator with ldif (for ldapdelete: DNs, one a line) on stdin.
func (s *Server) Apply(tool, ldif string) {
	s.t.Helper()
	s.run(tool, ldif, tool, "-x", "-H", s.URL, "-D", RootDN, "-w", RootPassword)
}

// Start starts (or restarts, on the same ports and data) slapd and waits
// until it accepts connections.
func (s *Server) Start() {
	s.t.Helper()
	cmd := exec.Command("/usr/sbin/slapd", "-F", filepath.Join(s.dir, "slapd.d"), "-h", s.urls, "-d", "0")
	log, err := os.OpenFile(filepath.Join(s.dir, "slapd.log"), os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o600)
	if err != nil {
		s.t.Fatal(err)
	}
	cmd.Stdout, cmd.Stderr = log, log
	if err := cmd.Start(); err != nil {
		s.t.Fatalf("slapdtest: starting slapd: %v", err)
	}
	s.cmd, s.exited = cmd, make(chan struct{})
	go func(exited chan struct{}) { _ = cmd.Wait(); _ = log.Close(); close(exited) }(s.exited)
	deadline := time.Now().Add(10 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", "127.0.0.1:"+strconv.Itoa(s.Port), 200*time.Millisecond)
		if err == nil {
			_ = c.Close()
			return
		}
		select {
		case <-s.exited:
			b, _ := os.ReadFile(filepath.Join(s.dir, "slapd.log"))
			s.t.Fatalf("slapdtest: slapd exited at start:\n%s", b)
		default:
		}
		if time.Now().After(deadline) {
			s.t.Fatalf("slapdtest: slapd did not listen on %s within 10s", s.URL)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Stop stops slapd and waits until it has exited; stopping a stopped
// server does nothing.
func (s *Server) Stop() {
	if s.cmd == nil {
		return
	}
	_ = s.cmd.Process.Kill()
	<-s.exited
	s.cmd = nil
}

// configLDIF is the cn=config of a test server: the arguments are the pid
// file, TLS settings, extra schema, database folder, suffix, root DN and
// root password.
const configLDIF = `dn: cn=config
objectClass: olcGlobal
cn: config
olcPidFile: %s
%s
dn: cn=module{0},cn=config
objectClass: olcModuleList
cn: module{0}
olcModulePath: /usr/lib/ldap
olcModuleLoad: back_mdb
olcModuleLoad: memberof

dn: cn=schema,cn=config
objectClass: olcSchemaConfig
cn: schema

include: file:///etc/ldap/schema/core.ldif

include: file:///etc/ldap/schema/cosine.ldif

include: file:///etc/ldap/schema/inetorgperson.ldif
%s
dn: olcDatabase={-1}frontend,cn=config
objectClass: olcDatabaseConfig
objectClass: olcFrontendConfig
olcDatabase: {-1}frontend

dn: olcDatabase={0}config,cn=config
objectClass: olcDatabaseConfig
olcDatabase: {0}config
olcAccess: {0}to * by * none

dn: olcDatabase={1}mdb,cn=config
objectClass: olcDatabaseConfig
objectClass: olcMdbConfig
olcDatabase: {1}mdb
olcDbDirectory: %s
olcDbMaxSize: 67108864
olcSuffix: %s
olcRootDN: %s
olcRootPW: %s
olcAccess: {0}to attrs=userPassword by self write by anonymous auth by * none
olcAccess: {1}to * by users read by * none

dn: olcOverlay={0}memberof,olcDatabase={1}mdb,cn=config
objectClass: olcOverlayConfig
objectClass: olcMemberOf
olcOverlay: {0}memberof
olcMemberOfRefInt: TRUE
`
