package e2e

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// A full disk stops writes, not answers: a node whose data directory has
// no space left refuses changes, keeps answering from the state it has
// applied, and takes writes again once space is freed, without a restart.
func TestDiskFullStopsWritesNotAnswers(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Fatal("this test mounts a small tmpfs as the node's data directory and must run as root (as make test does in CI)")
	}
	n := NewNode(t, NodeOptions{Bootstrap: true, Args: []string{"--rrl-rate", "0"}})
	if err := os.MkdirAll(n.DataDir, 0o700); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size=8m,mode=0700", "tmpfs", n.DataDir).CombinedOutput(); err != nil {
		t.Fatalf("mount tmpfs: %v: %s", err, out)
	}
	// Cleanups run last in, first out: this one runs before the node's
	// own, so it stops the process before it unmounts.
	t.Cleanup(func() {
		n.Stop()
		_ = exec.Command("umount", "-l", n.DataDir).Run()
	})
	n.Start()
	n.WaitReady()

	n.CLI("service", "put", svcName, "--ttl", "5", "--blue", strings.Join(blueV4, ","), "--blue-version", "1.0")
	n.CLI("deploy", svcName, "--version", "2.0", "--addr", greenV4[0], "--addr", greenV6[0])
	n.CLI("switch", svcName, "--reason", "before the disk fills")
	eventually(t, 10*time.Second, "green", func() error { return checkColour(n, greenV4) })

	filler := filepath.Join(n.DataDir, "filler")
	fillDisk(t, filler)

	// Writes fail; keep trying for a while so the store hits the full
	// disk (its file may have room left in pages already allocated).
	// The writes change only the TTL, which is valid in every state of
	// the service, so a refusal can only come from the disk.
	var refused CLIResult
	ttl := 10
	eventually(t, 20*time.Second, "a write refused on the full disk", func() error {
		ttl++
		r := RunCLIEnv(t, n.CLIEnv(), n.URL(), "service", "set", svcName, "--ttl", fmt.Sprint(ttl), "--retry-for", "2s")
		if r.Code == 0 {
			fillDisk(t, filler+time.Now().Format("150405.000")) // it fit: fill what it used
			return errors.New("the write still fit")
		}
		if r.Code != 5 {
			return permanent{fmt.Errorf("a write on the full disk failed with exit %d, want 5 (no leader): %s", r.Code, r)}
		}
		refused = r
		return nil
	})
	t.Logf("refused write: %s", refused)

	// Answers go on: the live name keeps the colour last applied, on
	// every query, for longer than the node's max-stale.
	deadline := time.Now().Add(5 * time.Second)
	answered := 0
	for time.Now().Before(deadline) {
		a, err := DigE(n.DNSAddr, svcName, "A")
		if err != nil {
			t.Fatalf("query on a full disk: %v", err)
		}
		if a.Status != "NOERROR" {
			t.Fatalf("query on a full disk: %s, want NOERROR with the last applied colour\n%s", a.Status, a.Raw)
		}
		if got := strings.Join(a.Values("A"), ","); got != strings.Join(greenV4, ",") {
			t.Fatalf("query on a full disk answered %s", got)
		}
		answered++
		time.Sleep(100 * time.Millisecond)
	}
	if n.PID() == 0 {
		t.Fatalf("the node exited on the full disk\n%s", n.LogTail(40))
	}

	// Space freed: writes work again without a restart.
	matches, _ := filepath.Glob(filler + "*")
	for _, f := range matches {
		_ = os.Remove(f)
	}
	// Space freed: writes work again without a restart. (The refused
	// write may or may not have been applied; this one sets a TTL of its
	// own, and DNS shows it.)
	eventually(t, 30*time.Second, "a write after space was freed", func() error {
		// One request id for every try: a retry of a commit that
		// went through is answered with its result, not applied again.
		r := RunCLIEnv(t, n.CLIEnv(), n.URL(), "service", "set", svcName, "--ttl", "7",
			"--request-id", "diskfull-after", "--retry-for", "2s")
		if r.Code != 0 {
			return errors.New(r.String())
		}
		return nil
	})
	eventually(t, 10*time.Second, "the new TTL in DNS", func() error {
		a, err := DigE(n.DNSAddr, svcName, "A")
		if err != nil {
			return err
		}
		return checkAddrs(a, "A", 7, greenV4...)
	})
	t.Logf("%d answers while the disk was full", answered)
}

// fillDisk writes zeros to path until the file system is full.
func fillDisk(t *testing.T, path string) {
	t.Helper()
	out, err := exec.Command("dd", "if=/dev/zero", "of="+path, "bs=64k").CombinedOutput()
	if err == nil {
		t.Fatalf("dd filled %s without running out of space: %s", path, out)
	}
	if !strings.Contains(string(out), "No space left") {
		t.Fatalf("dd: %v: %s", err, out)
	}
}
