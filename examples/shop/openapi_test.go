package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// TestOpenAPIMatchesTheHandlers: the document names exactly the routes the
// server registers and exactly the error codes the source can send, and
// the server serves it.
func TestOpenAPIMatchesTheHandlers(t *testing.T) {
	var doc struct {
		OpenAPI    string                                `json:"openapi"`
		Paths      map[string]map[string]json.RawMessage `json:"paths"`
		Components struct {
			Schemas struct {
				Error struct {
					Properties struct {
						Error struct {
							Properties struct {
								Code struct {
									Enum []string `json:"enum"`
								} `json:"code"`
							} `json:"properties"`
						} `json:"error"`
					} `json:"properties"`
				} `json:"Error"`
			} `json:"schemas"`
		} `json:"components"`
	}
	if err := json.Unmarshal(openAPIDoc, &doc); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(doc.OpenAPI, "3.1") {
		t.Fatalf("openapi %q, want 3.1", doc.OpenAPI)
	}
	var documented []string
	for path, ops := range doc.Paths {
		for method := range ops {
			documented = append(documented, strings.ToUpper(method)+" "+path)
		}
	}
	src, err := os.ReadFile("http.go")
	if err != nil {
		t.Fatal(err)
	}
	var served []string
	for _, m := range regexp.MustCompile(`mux\.HandleFunc\("([A-Z]+ /[^"]*)"`).FindAllSubmatch(src, -1) {
		served = append(served, string(m[1]))
	}
	compare(t, "route", served, documented)

	// Every Code the non-test source sets.
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	var used []string
	codeRE := regexp.MustCompile(`Code: +"([a-z_]+)"`)
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range codeRE.FindAllSubmatch(b, -1) {
			if !slices.Contains(used, string(m[1])) {
				used = append(used, string(m[1]))
			}
		}
	}
	compare(t, "error code", used, doc.Components.Schemas.Error.Properties.Error.Properties.Code.Enum)

	h := newHarness(t, openMemory(), 0)
	res := h.call("GET", "/openapi.json", "", "", nil)
	if res.status != 200 || !bytes.Equal(bytes.TrimSpace(res.body), bytes.TrimSpace(openAPIDoc)) {
		t.Fatalf("GET /openapi.json: %d, %d bytes", res.status, len(res.body))
	}
}

// compare reports what only one of the code and the document has.
func compare(t *testing.T, what string, inCode, inDoc []string) {
	t.Helper()
	for _, c := range inCode {
		if !slices.Contains(inDoc, c) {
			t.Errorf("%s %q is in the code but not in openapi.json", what, c)
		}
	}
	for _, d := range inDoc {
		if !slices.Contains(inCode, d) {
			t.Errorf("%s %q is in openapi.json but not in the code", what, d)
		}
	}
}
