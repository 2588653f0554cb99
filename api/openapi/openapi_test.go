package openapi

import (
	"encoding/json"
	"strings"
	"testing"
	"testing/fstest"
)

func TestDocumentMergesEveryPiece(t *testing.T) {
	d, err := Document()
	if err != nil {
		t.Fatal(err)
	}
	paths, _ := d["paths"].(map[string]any)
	for _, p := range []string{"/healthz", "/v1/zones/{zone}", "/v1/services/{fqdn}/switch", "/v1/acl/tokens/{id}", "/v1/cluster/join", "/v1/openapi.json"} {
		if _, ok := paths[p]; !ok {
			t.Errorf("merged document lacks %s", p)
		}
	}
	schemas := d["components"].(map[string]any)["schemas"].(map[string]any)
	for _, s := range []string{"Service", "TokenInfo", "JoinRequest"} {
		if _, ok := schemas[s]; !ok {
			t.Errorf("merged document lacks schema %s", s)
		}
	}
	b, err := JSON()
	if err != nil {
		t.Fatal(err)
	}
	var back map[string]any
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatalf("JSON() is not JSON: %v", err)
	}
	if back["openapi"] != "3.1.0" {
		t.Errorf("openapi = %v, want 3.1.0", back["openapi"])
	}
	for k := range back {
		if strings.HasPrefix(k, "x-") {
			t.Errorf("a piece's anchor key %q leaked into the document", k)
		}
	}
}

func TestMergeRefusesDuplicatesAndStrayKeys(t *testing.T) {
	base := "openapi: 3.1.0\ninfo: {title: t, version: '1'}\ncomponents:\n  schemas:\n    A: {type: string}\n"
	cases := map[string]struct {
		files map[string]string
		want  string
	}{
		"two pieces, one path": {map[string]string{
			"paths/a.yaml": "paths:\n  /x: {get: {responses: {'200': {description: ok}}}}\n",
			"paths/b.yaml": "paths:\n  /x: {put: {responses: {'200': {description: ok}}}}\n",
		}, ""},
		"duplicate operation": {map[string]string{
			"paths/a.yaml": "paths:\n  /x: {get: {responses: {'200': {description: ok}}}}\n",
			"paths/b.yaml": "paths:\n  /x: {get: {responses: {'204': {description: ok}}}}\n",
		}, "GET /x is already described in paths/a.yaml"},
		"path parameters that disagree": {map[string]string{
			"paths/a.yaml": "paths:\n  /x/{id}:\n    parameters: [{name: id, in: path, required: true, schema: {type: string}}]\n    get: {responses: {'200': {description: ok}}}\n",
			"paths/b.yaml": "paths:\n  /x/{id}:\n    parameters: [{name: id, in: path, required: true, schema: {type: integer}}]\n    put: {responses: {'200': {description: ok}}}\n",
		}, "parameters of /x/{id} is already described in paths/a.yaml"},
		"duplicate schema": {map[string]string{
			"paths/a.yaml": "components:\n  schemas:\n    A: {type: integer}\n",
		}, "components/schemas/A is already defined in openapi.yaml"},
		"stray key": {map[string]string{
			"paths/a.yaml": "info: {title: other}\n",
		}, `top-level key "info"`},
		"status code not quoted": {map[string]string{
			"paths/a.yaml": "paths:\n  /x: {get: {responses: {200: {description: ok}}}}\n",
		}, "has a key that is not a string"},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			fsys := fstest.MapFS{"openapi.yaml": {Data: []byte(base)}}
			for n, s := range c.files {
				fsys[n] = &fstest.MapFile{Data: []byte(s)}
			}
			d, err := Merge(fsys)
			if c.want == "" {
				if err != nil {
					t.Fatalf("Merge: %v", err)
				}
				item := d["paths"].(map[string]any)["/x"].(map[string]any)
				if item["get"] == nil || item["put"] == nil {
					t.Fatalf("the operations of both pieces are not merged: %v", item)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("Merge error = %v, want one containing %q", err, c.want)
			}
		})
	}
}
