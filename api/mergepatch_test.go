package api

import (
	"bytes"
	"encoding/json"
	"testing"
)

// TestMergePatchRFC7396 runs the examples of RFC 7396, Appendix A.
func TestMergePatchRFC7396(t *testing.T) {
	cases := []struct{ target, patch, want string }{
		{`{"a":"b"}`, `{"a":"c"}`, `{"a":"c"}`},
		{`{"a":"b"}`, `{"b":"c"}`, `{"a":"b","b":"c"}`},
		{`{"a":"b"}`, `{"a":null}`, `{}`},
		{`{"a":"b","b":"c"}`, `{"a":null}`, `{"b":"c"}`},
		{`{"a":["b"]}`, `{"a":"c"}`, `{"a":"c"}`},
		{`{"a":"c"}`, `{"a":["b"]}`, `{"a":["b"]}`},
		{`{"a":{"b":"c"}}`, `{"a":{"b":"d","c":null}}`, `{"a":{"b":"d"}}`},
		{`{"a":[{"b":"c"}]}`, `{"a":[1]}`, `{"a":[1]}`},
		{`["a","b"]`, `["c","d"]`, `["c","d"]`},
		{`{"a":"b"}`, `["c"]`, `["c"]`},
		{`{"a":"foo"}`, `null`, `null`},
		{`{"a":"foo"}`, `"bar"`, `"bar"`},
		{`{"e":null}`, `{"a":1}`, `{"e":null,"a":1}`},
		{`[1,2]`, `{"a":"b","c":null}`, `{"a":"b"}`},
		{`{}`, `{"a":{"bb":{"ccc":null}}}`, `{"a":{"bb":{}}}`},
		// and the example of section 3
		{`{"title":"Goodbye!","author":{"givenName":"John","familyName":"Doe"},"tags":["example","sample"],"content":"This will be unchanged"}`,
			`{"title":"Hello!","phoneNumber":"+01-123-456-7890","author":{"familyName":null},"tags":["example"]}`,
			`{"title":"Hello!","author":{"givenName":"John"},"tags":["example"],"content":"This will be unchanged","phoneNumber":"+01-123-456-7890"}`},
		// numbers pass through exactly
		{`{"n":12345678901234567890}`, `{"m":0.1}`, `{"n":12345678901234567890,"m":0.1}`},
	}
	for _, tc := range cases {
		target, patch := decodeAny(t, tc.target), decodeAny(t, tc.patch)
		before, _ := json.Marshal(target)
		got, err := json.Marshal(mergePatch(target, patch))
		if err != nil {
			t.Fatal(err)
		}
		if want, _ := json.Marshal(decodeAny(t, tc.want)); !bytes.Equal(got, want) {
			t.Errorf("merge %s into %s: got %s, want %s", tc.patch, tc.target, got, want)
		}
		if after, _ := json.Marshal(target); !bytes.Equal(before, after) {
			t.Errorf("merge %s changed its target %s to %s", tc.patch, before, after)
		}
	}
}

func decodeAny(t *testing.T, s string) any {
	t.Helper()
	v, err := decodeJSONValue([]byte(s))
	if err != nil {
		t.Fatalf("%s: %v", s, err)
	}
	return v
}
