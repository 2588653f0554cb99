package deploy

import (
	"bufio"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// instruction is one Containerfile instruction, continuation lines joined.
type instruction struct {
	line int
	cmd  string // upper case
	args string
}

func parseContainerfile(t *testing.T, path string) []instruction {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []instruction
	var cur strings.Builder
	start := 0
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if cur.Len() == 0 && (line == "" || strings.HasPrefix(line, "#")) {
			continue
		}
		if cur.Len() > 0 && strings.HasPrefix(line, "#") {
			continue // a comment inside a continued instruction
		}
		if cur.Len() == 0 {
			start = n
		}
		if s, ok := strings.CutSuffix(line, `\`); ok {
			cur.WriteString(s + " ")
			continue
		}
		cur.WriteString(line)
		cmd, args, _ := strings.Cut(cur.String(), " ")
		out = append(out, instruction{line: start, cmd: strings.ToUpper(cmd), args: strings.TrimSpace(args)})
		cur.Reset()
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if cur.Len() > 0 {
		t.Fatalf("%s ends inside a continued instruction", path)
	}
	return out
}

// TestContainerfile checks the container recipe as far as it can be
// checked without building it: a distroless base, a non-root user, the
// binary copied from where make dist puts it, an exec-form entrypoint
// running it, and every copied source present.
func TestContainerfile(t *testing.T) {
	path := filepath.Join("container", "Containerfile")
	ins := parseContainerfile(t, path)
	known := []string{"FROM", "ARG", "COPY", "ENV", "USER", "VOLUME", "EXPOSE", "ENTRYPOINT", "CMD", "LABEL", "WORKDIR"}
	var from, user, entry []string
	copies := map[string]string{} // destination -> source
	args := map[string]bool{}
	for _, in := range ins {
		if !slices.Contains(known, in.cmd) {
			t.Errorf("%s:%d: unexpected instruction %s", path, in.line, in.cmd)
		}
		switch in.cmd {
		case "FROM":
			from = append(from, in.args)
		case "ARG":
			args[strings.SplitN(in.args, "=", 2)[0]] = true
		case "USER":
			user = append(user, in.args)
		case "ENTRYPOINT":
			if err := json.Unmarshal([]byte(in.args), &entry); err != nil {
				t.Errorf("%s:%d: ENTRYPOINT is not in exec (JSON) form: %v", path, in.line, err)
			}
		case "COPY":
			var words []string
			for _, w := range strings.Fields(in.args) {
				if !strings.HasPrefix(w, "--") {
					words = append(words, w)
				} else if strings.HasPrefix(w, "--from") {
					t.Errorf("%s:%d: COPY --from: the image takes the binary from dist/, it builds nothing", path, in.line)
				}
			}
			if len(words) != 2 {
				t.Errorf("%s:%d: COPY with %d paths, want a source and a destination", path, in.line, len(words))
				continue
			}
			copies[words[1]] = words[0]
		}
	}
	if len(from) != 1 || !regexp.MustCompile(`^(gcr\.io/distroless/static[-a-z0-9]*:nonroot|scratch)(@sha256:[0-9a-f]{64})?$`).MatchString(from[0]) {
		t.Errorf("FROM %v: want one distroless static nonroot (or scratch) base", from)
	}
	if len(user) == 0 {
		t.Error("no USER: the image would run as root")
	} else if u := strings.Split(user[len(user)-1], ":")[0]; u == "0" || u == "root" || u == "" {
		t.Errorf("USER %s runs as root", user[len(user)-1])
	}
	if len(entry) == 0 {
		t.Fatal("no ENTRYPOINT")
	}
	src, ok := copies[entry[0]]
	if !ok {
		t.Fatalf("ENTRYPOINT runs %s, which no COPY puts in the image (copies: %v)", entry[0], copies)
	}
	if src != "dist/bgdns-linux-${TARGETARCH}" || !args["TARGETARCH"] {
		t.Errorf("the binary comes from %q; want dist/bgdns-linux-${TARGETARCH} with ARG TARGETARCH (what make dist builds)", src)
	}
	dist, err := os.ReadFile(filepath.Join("..", "scripts", "dist.sh"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(dist), `bin="$DIST/bgdns-linux-$arch"`) {
		t.Error("scripts/dist.sh no longer names its binaries dist/bgdns-linux-$arch, which the Containerfile copies")
	}
	for dst, s := range copies {
		if dst == entry[0] {
			continue
		}
		if _, err := os.Stat(filepath.Join("..", s)); err != nil {
			t.Errorf("COPY %s %s: the source is not in the repository: %v", s, dst, err)
		}
	}
}

// unitSettings reads a systemd unit into key -> values (a key may repeat).
func unitSettings(t *testing.T, path string) map[string][]string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string][]string{}
	for _, line := range strings.Split(string(b), "\n") {
		line = strings.TrimSpace(line)
		if line == "" || line[0] == '#' || line[0] == ';' || line[0] == '[' {
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		if !ok {
			t.Errorf("%s: not a setting: %q", path, line)
			continue
		}
		out[k] = append(out[k], v)
	}
	return out
}

// TestUnitHardening checks the settings that keep the service confined
// (systemd-analyze verify, in scripts/test-dist.sh, checks the syntax).
func TestUnitHardening(t *testing.T) {
	u := unitSettings(t, filepath.Join("systemd", "bgdns.service"))
	want := map[string]string{
		"User":                    "bgdns",
		"NoNewPrivileges":         "yes",
		"ProtectSystem":           "strict",
		"ProtectHome":             "yes",
		"PrivateTmp":              "yes",
		"PrivateDevices":          "yes",
		"StateDirectory":          "bgdns",
		"AmbientCapabilities":     "CAP_NET_BIND_SERVICE CAP_SYS_NICE",
		"CapabilityBoundingSet":   "CAP_NET_BIND_SERVICE CAP_SYS_NICE",
		"RestrictAddressFamilies": "AF_INET AF_INET6 AF_UNIX",
		"SystemCallArchitectures": "native",
		"MemoryDenyWriteExecute":  "yes",
	}
	for k, v := range want {
		if !slices.Contains(u[k], v) {
			t.Errorf("bgdns.service: %s=%v, want %s", k, u[k], v)
		}
	}
	if !slices.Contains(u["SystemCallFilter"], "@system-service") {
		t.Errorf("bgdns.service: SystemCallFilter=%v lacks @system-service", u["SystemCallFilter"])
	}
	if len(u["ExecStart"]) != 1 {
		t.Fatalf("ExecStart=%v, want one", u["ExecStart"])
	}
	exec := u["ExecStart"][0]
	if !strings.HasPrefix(exec, "/usr/bin/bgdns serve") {
		t.Errorf("ExecStart=%s does not run /usr/bin/bgdns serve", exec)
	}
	for _, secret := range []string{"--api-token", "--join-token", "--tls-key"} {
		if strings.Contains(exec, secret) {
			t.Errorf("ExecStart=%s puts %s on the command line", exec, secret)
		}
	}
	if !slices.Contains(u["EnvironmentFile"], "-/etc/default/bgdns") {
		t.Errorf("EnvironmentFile=%v, want -/etc/default/bgdns", u["EnvironmentFile"])
	}
}

// TestConfigTemplatesHoldNoSettings: the shipped configuration files are
// comments only (the defaults are the unit's and bgdns serve's), and the
// secrets file is the one the unit reads.
func TestConfigTemplatesHoldNoSettings(t *testing.T) {
	for _, f := range []string{filepath.Join("etc", "default.bgdns"), filepath.Join("etc", "bgdns.yaml")} {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for i, line := range strings.Split(string(b), "\n") {
			if l := strings.TrimSpace(line); l != "" && !strings.HasPrefix(l, "#") {
				t.Errorf("%s:%d: a setting in a template: %q", f, i+1, line)
			}
		}
	}
	u := unitSettings(t, filepath.Join("systemd", "bgdns.service"))
	if !strings.Contains(u["ExecStart"][0], "--config /etc/bgdns/bgdns.yaml") {
		t.Errorf("ExecStart=%s does not read /etc/bgdns/bgdns.yaml", u["ExecStart"][0])
	}
	conf, err := os.ReadFile(filepath.Join("debian", "conffiles"))
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"/etc/default/bgdns", "/etc/bgdns/bgdns.yaml"} {
		if !slices.Contains(strings.Fields(string(conf)), f) {
			t.Errorf("debian/conffiles lacks %s", f)
		}
	}
}

// TestDebVersion checks the Debian versions scripts/dist.sh derives from
// git describe: valid for dpkg, and ordered as the releases are
// (an untagged build first, a pre-release before its release, commits past
// a tag after it).
func TestDebVersion(t *testing.T) {
	dpkg, err := exec.LookPath("dpkg")
	if err != nil {
		t.Skip("dpkg is not installed: the Debian version rules are dpkg's own")
	}
	deb := func(v string) string {
		t.Helper()
		out, err := exec.Command("bash", filepath.Join("..", "scripts", "dist.sh"), "--deb-version", v).Output()
		if err != nil {
			t.Fatalf("dist.sh --deb-version %s: %v", v, err)
		}
		return strings.TrimSpace(string(out))
	}
	want := map[string]string{
		"v1.2.3":              "1.2.3-1",
		"v1.2.3-4-gabc1234":   "1.2.3+4.gabc1234-1",
		"abc1234-dirty":       "0~gitabc1234+dirty-1",
		"v2.0.0-rc.1":         "2.0.0~rc.1-1",
		"v1.2.3-4-gabc-dirty": "1.2.3+4.gabc+dirty-1",
	}
	for in, w := range want {
		if got := deb(in); got != w {
			t.Errorf("deb version of %s = %s, want %s", in, got, w)
		}
	}
	order := []string{"892d2dd", "v1.2.3", "v1.2.3-4-gabc1234", "v2.0.0-rc.1", "v2.0.0-rc.1-3-gdeadbee", "v2.0.0", "v2.0.1"}
	for i := 0; i+1 < len(order); i++ {
		a, b := deb(order[i]), deb(order[i+1])
		if err := exec.Command(dpkg, "--compare-versions", a, "lt", b).Run(); err != nil {
			t.Errorf("dpkg does not order %s (%s) before %s (%s): %v", a, order[i], b, order[i+1], err)
		}
	}
	for _, v := range order {
		if out, err := exec.Command(dpkg, "--validate-version", deb(v)).CombinedOutput(); err != nil {
			t.Errorf("%s (%s) is not a valid Debian version: %s", deb(v), v, out)
		}
	}
}
