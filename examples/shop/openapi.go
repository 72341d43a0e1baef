package main

import (
	_ "embed"
	"net/http"
)

// openAPIDoc describes the whole HTTP API in OpenAPI 3.1: every route,
// its request and response bodies, and every error code. openapi_test.go
// checks it against the routes and the codes in the source.
//
//go:embed openapi.json
var openAPIDoc []byte

func (s *shop) handleOpenAPI(w http.ResponseWriter, r *http.Request) {
	writeRaw(w, http.StatusOK, openAPIDoc)
}
