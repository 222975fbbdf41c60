package rule_test

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/mpgs/mpgameserver/conn"
	"github.com/mpgs/mpgameserver/internal/echo/rule"
)

func TestRetry(t *testing.T) {
	assert.Equal(t, conn.RetryOnTimeout, rule.Retry([]byte("Gx")))
	assert.Equal(t, conn.RetryNone, rule.Retry([]byte("x")))
	assert.Equal(t, conn.RetryNone, rule.Retry(nil))
}
