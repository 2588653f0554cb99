package control

import "strings"

// Reserved first labels under a service name: blue.<svc> and green.<svc>
// answer that colour, preview.<svc> the idle colour and _bgdns.<svc> TXT the
// service's state. A service may not be named with one of them as its first
// label.
const (
	LabelBlue    = "blue"
	LabelGreen   = "green"
	LabelPreview = "preview"
	LabelTXT     = "_bgdns"
)

// CanonicalName lower-cases a domain name and gives it a trailing dot.
// It validates the name's syntax: labels of 1..63 letters, digits, '-' or
// '_', at most 253 characters without the final dot.
func CanonicalName(s string) (string, error) {
	n := strings.ToLower(strings.TrimSpace(s))
	n = strings.TrimSuffix(n, ".")
	if n == "" {
		return "", Invalid("empty domain name")
	}
	if len(n) > 253 {
		return "", Invalid("domain name %q is longer than 253 characters", s)
	}
	for _, label := range strings.Split(n, ".") {
		if label == "" {
			return "", Invalid("domain name %q has an empty label", s)
		}
		if len(label) > 63 {
			return "", Invalid("domain name %q has a label longer than 63 characters", s)
		}
		for i := 0; i < len(label); i++ {
			c := label[i]
			ok := c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_'
			if !ok {
				return "", Invalid("domain name %q has an invalid character %q", s, c)
			}
		}
		if label[0] == '-' || label[len(label)-1] == '-' {
			return "", Invalid("domain name %q has a label starting or ending with '-'", s)
		}
	}
	return n + ".", nil
}

// InZone reports whether canonical name n is at or below canonical zone z.
func InZone(n, z string) bool {
	return n == z || strings.HasSuffix(n, "."+z)
}

// parentOf returns the name with its first label removed ("" for the root).
func parentOf(n string) string {
	i := strings.IndexByte(n, '.')
	if i < 0 || i == len(n)-1 {
		return ""
	}
	return n[i+1:]
}

// firstLabel returns the first label of a canonical name.
func firstLabel(n string) string {
	if i := strings.IndexByte(n, '.'); i >= 0 {
		return n[:i]
	}
	return n
}

func isReservedLabel(l string) bool {
	return l == LabelBlue || l == LabelGreen || l == LabelPreview || l == LabelTXT
}
