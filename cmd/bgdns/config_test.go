package main

import (
	"os"
	"path/filepath"
	"testing"
	"time"
)

func TestServeConfigPrecedence(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "bgdns.yaml")
	yaml := "node-id: from-file\ndata_dir: /from/file\nmax-stale: 5s\nzone: [a.test., b.test.]\nhttp-addr: 127.0.0.1:1\n"
	if err := os.WriteFile(path, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("BGDNS_DATA_DIR", "/from/env")
	t.Setenv("BGDNS_HTTP_ADDR", "127.0.0.1:2")

	cmd := newServeCmd()
	if err := cmd.ParseFlags([]string{"--config", path, "--http-addr", "127.0.0.1:3"}); err != nil {
		t.Fatal(err)
	}
	if err := applyEnvAndConfig(cmd, path); err != nil {
		t.Fatal(err)
	}
	get := func(name string) string { return cmd.Flags().Lookup(name).Value.String() }
	checks := map[string]string{
		"node-id":   "from-file",   // file only
		"data-dir":  "/from/env",   // env beats file
		"http-addr": "127.0.0.1:3", // flag beats env
		"max-stale": (5 * time.Second).String(),
		"zone":      "[a.test.,b.test.]",
		"raft-addr": "127.0.0.1:7053", // default
	}
	for k, want := range checks {
		if got := get(k); got != want {
			t.Errorf("%s = %q, want %q", k, got, want)
		}
	}
}

func TestServeConfigErrors(t *testing.T) {
	dir := t.TempDir()
	for name, body := range map[string]string{
		"unknown key": "no-such-flag: 1\n",
		"bad value":   "max-stale: forever\n",
		"bad yaml":    "node-id: [\n",
	} {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join(dir, "c.yaml")
			if err := os.WriteFile(path, []byte(body), 0o600); err != nil {
				t.Fatal(err)
			}
			cmd := newServeCmd()
			if err := applyEnvAndConfig(cmd, path); err == nil {
				t.Fatal("no error")
			}
		})
	}
	t.Run("bad env", func(t *testing.T) {
		t.Setenv("BGDNS_MAX_STALE", "soon")
		if err := applyEnvAndConfig(newServeCmd(), ""); err == nil {
			t.Fatal("no error")
		}
	})
	t.Run("missing file", func(t *testing.T) {
		if err := applyEnvAndConfig(newServeCmd(), filepath.Join(dir, "nope.yaml")); err == nil {
			t.Fatal("no error")
		}
	})
}
