package e2e

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/bgdns/bgdns/internal/testports"
)

// binPath is the bgdns binary built once by TestMain for every test.
var binPath string

// slow scales every deadline: a binary built with -race runs several times
// slower than a plain one.
var slow = func() time.Duration {
	if raceBuild {
		return 3
	}
	return 1
}()

// TestMain builds bin/bgdns into a temporary directory once, from the
// repository root, then runs the tests. With -short it builds nothing and
// every end-to-end test skips itself.
func TestMain(m *testing.M) {
	flag.Parse()
	if testing.Short() {
		os.Exit(m.Run())
	}
	dir, err := os.MkdirTemp("", "bgdns-e2e-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "e2e:", err)
		os.Exit(1)
	}
	binPath = filepath.Join(dir, "bgdns")
	if err := buildBinary(binPath); err != nil {
		fmt.Fprintln(os.Stderr, "e2e: building bgdns:", err)
		os.RemoveAll(dir)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// buildBinary runs `go build -o out ./cmd/bgdns` at the repository root
// (the parent of this package), with -race when the tests run with it.
func buildBinary(out string) error {
	goBin, err := exec.LookPath("go")
	if err != nil {
		root := os.Getenv("GOROOT")
		if root == "" {
			return fmt.Errorf("go is not on PATH and GOROOT is not set: %w", err)
		}
		goBin = filepath.Join(root, "bin", "go")
	}
	args := []string{"build", "-o", out}
	if raceBuild {
		args = append(args, "-race")
	}
	args = append(args, "./cmd/bgdns")
	cmd := exec.Command(goBin, args...)
	cmd.Dir = ".."
	b, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Errorf("%v\n%s", err, b)
	}
	return nil
}

// requireE2E skips the test under -short, and checks that the tools the
// test needs are on PATH. A missing tool fails the test when CI is set (CI
// must install it) and skips it otherwise, saying what to install.
func requireE2E(t testing.TB, tools ...string) {
	t.Helper()
	if testing.Short() {
		t.Skip("end-to-end test: skipped with -short")
	}
	for _, tool := range tools {
		if _, err := exec.LookPath(tool); err != nil {
			msg := fmt.Sprintf("%s not found on PATH (Debian: apt-get install -y dnsutils, or run scripts/install-test-deps.sh)", tool)
			if os.Getenv("CI") != "" {
				t.Fatal(msg)
			}
			t.Skip(msg)
		}
	}
}

// eventually polls f every 50ms until it returns nil, and fails the test
// with f's last error when timeout (scaled for -race builds) runs out.
func eventually(t testing.TB, timeout time.Duration, what string, f func() error) {
	t.Helper()
	if err := poll(timeout, f); err != nil {
		t.Fatalf("%s: not true after %v: %v", what, timeout*slow, err)
	}
}

// permanent marks an error that no amount of waiting will change (the
// process exited): poll returns it at once.
type permanent struct{ error }

func (p permanent) Unwrap() error { return p.error }

// poll is eventually without the test: it returns f's last error on timeout,
// or at once when f returns a permanent error.
func poll(timeout time.Duration, f func() error) error {
	deadline := time.Now().Add(timeout * slow)
	for {
		err := f()
		if err == nil {
			return nil
		}
		var p permanent
		if errors.As(err, &p) || time.Now().After(deadline) {
			return err
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// Ports ---------------------------------------------------------------------

// freeTCPAddr returns host:port where the port is free for TCP on host
// (internal/testports: below the ephemeral range, never handed out twice).
func freeTCPAddr(t testing.TB, host string) string {
	t.Helper()
	addr, err := testports.Free(host, false)
	if err != nil {
		t.Fatalf("free port on %s: %v", host, err)
	}
	return addr
}

// freeDNSAddr returns host:port where the port is free for both TCP and UDP.
func freeDNSAddr(t testing.TB, host string) string {
	t.Helper()
	addr, err := testports.Free(host, true)
	if err != nil {
		t.Fatalf("free TCP and UDP port on %s: %v", host, err)
	}
	return addr
}
