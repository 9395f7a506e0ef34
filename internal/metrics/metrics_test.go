package metrics

import (
	"io"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

func TestOperationCountsAndDerivedCounters(t *testing.T) {
	m := New()
	ops := []struct{ kind, field, outcome string }{
		{"query", "me", "ok"},
		{"mutation", "login", "ok"},
		{"mutation", "register", "ok"},
		{"mutation", "login", "INVALID_CREDENTIALS"},
		{"mutation", "login", "RATE_LIMITED"},
		{"mutation", "register", "RATE_LIMITED"},
		{"invalid", "", "GRAPHQL_VALIDATION_FAILED"},
	}
	// Twice each: the second time goes through the cached collectors.
	for range 2 {
		for _, op := range ops {
			m.Operation(op.kind, op.field, op.outcome, time.Millisecond)
		}
	}
	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	body, _ := io.ReadAll(rec.Body)
	for _, want := range []string{
		`graphql_operations_total{operation="query:me",outcome="ok"} 2`,
		`graphql_operations_total{operation="mutation:login",outcome="ok"} 2`,
		`graphql_operations_total{operation="mutation:login",outcome="INVALID_CREDENTIALS"} 2`,
		`graphql_operations_total{operation="invalid",outcome="GRAPHQL_VALIDATION_FAILED"} 2`,
		`graphql_operation_duration_seconds_count{operation="mutation:login"} 6`,
		`auth_sign_ins_total 4`,
		`auth_failed_logins_total 2`,
		`auth_rate_limited_total{action="mutation:login"} 2`,
		`auth_rate_limited_total{action="mutation:register"} 2`,
	} {
		if !strings.Contains(string(body), want) {
			t.Errorf("metrics lack %q", want)
		}
	}
}

func BenchmarkOperation(b *testing.B) {
	m := New()
	b.ReportAllocs()
	for b.Loop() {
		m.Operation("query", "me", "ok", time.Millisecond)
	}
}
