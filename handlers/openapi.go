package handlers

import (
	_ "embed"
	"net/http"

	"github.com/gin-gonic/gin"
)

// openAPIDoc describes the whole HTTP surface; openapi_test.go checks the
// real responses against it.
//
//go:embed openapi.json
var openAPIDoc []byte

// handleOpenAPI serves the OpenAPI document; it holds no secrets, so no auth.
func handleOpenAPI(c *gin.Context) {
	c.Header("Cache-Control", "public, max-age=300")
	c.Data(http.StatusOK, "application/json", openAPIDoc)
}
