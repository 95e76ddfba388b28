package handlers

import (
	"context"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"
)

// Pinger checks one dependency.
type Pinger func(ctx context.Context) error

// handleHealthz answers liveness; HEAD (some load balancers probe with it)
// gets the status alone.
func handleHealthz(c *gin.Context) {
	if c.Request.Method == http.MethodHead {
		c.Status(http.StatusOK)
		return
	}
	c.JSON(http.StatusOK, gin.H{"status": "ok"})
}

// handleReadyz pings every dependency with a short timeout; 503 when any is down.
func handleReadyz(checks map[string]Pinger) gin.HandlerFunc {
	return func(c *gin.Context) {
		ctx, cancel := context.WithTimeout(c.Request.Context(), 2*time.Second)
		defer cancel()
		status, code := gin.H{}, http.StatusOK
		for name, ping := range checks {
			if err := ping(ctx); err != nil {
				status[name] = "down"
				code = http.StatusServiceUnavailable
				continue
			}
			status[name] = "ok"
		}
		if c.Request.Method == http.MethodHead {
			c.Status(code)
			return
		}
		if code != http.StatusOK {
			c.JSON(code, gin.H{"status": "unavailable", "checks": status})
			return
		}
		c.JSON(code, gin.H{"status": "ok", "checks": status})
	}
}
