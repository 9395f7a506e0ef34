// Package tracing turns on OpenTelemetry tracing when
// OTEL_EXPORTER_OTLP_ENDPOINT (or OTEL_EXPORTER_OTLP_TRACES_ENDPOINT) is
// set, exporting spans over OTLP/HTTP, and instruments the server's HTTP
// handler and store clients with the provider it is given. With tracing off
// the provider is a no-op and every function here returns what it was
// given unchanged: the hot path gets no wrapper, hook or monitor.
//
// Nothing here touches the otel globals (otel.SetTracerProvider): the
// provider is passed to each instrumentation explicitly.
package tracing

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/redis/go-redis/extra/redisotel/v9"
	"github.com/redis/go-redis/v9"
	"go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	metricnoop "go.opentelemetry.io/otel/metric/noop"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/noop"
)

// ScopeName names the tracers this server creates for its own spans.
const ScopeName = "github.com/sessiongql/server"

// defaultServiceName is service.name when OTEL_SERVICE_NAME is unset.
const defaultServiceName = "sessiongql-server"

// Setup returns the tracer provider the server passes to its
// instrumentations, and the function that flushes and stops it (call it
// once, at exit, after the last request). With neither
// OTEL_EXPORTER_OTLP_ENDPOINT nor OTEL_EXPORTER_OTLP_TRACES_ENDPOINT set,
// or OTEL_SDK_DISABLED=true, tracing is off: the provider is a no-op and
// Enabled reports false for it.
//
// The endpoints, OTEL_EXPORTER_OTLP_HEADERS and OTEL_SERVICE_NAME are read
// through getenv; the exporter and the SDK read the other standard
// variables themselves from the process environment (OTEL_TRACES_SAMPLER,
// OTEL_BSP_SCHEDULE_DELAY, OTEL_EXPORTER_OTLP_TIMEOUT, ..._COMPRESSION,
// ..._CERTIFICATE, OTEL_RESOURCE_ATTRIBUTES). Spans leave in batches, by
// default every 5 seconds.
func Setup(ctx context.Context, getenv func(string) string) (trace.TracerProvider, func(context.Context) error, error) {
	off := func(context.Context) error { return nil }
	if strings.EqualFold(strings.TrimSpace(getenv("OTEL_SDK_DISABLED")), "true") {
		return noop.NewTracerProvider(), off, nil
	}
	// The traces endpoint is used as it is; the general one is a base URL.
	name, endpoint := "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", strings.TrimSpace(getenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"))
	if endpoint == "" {
		name, endpoint = "OTEL_EXPORTER_OTLP_ENDPOINT", strings.TrimSpace(getenv("OTEL_EXPORTER_OTLP_ENDPOINT"))
		if endpoint == "" {
			return noop.NewTracerProvider(), off, nil
		}
		endpoint = strings.TrimRight(endpoint, "/") + "/v1/traces"
	}
	// The exporter would fall back to localhost:4318 on a URL it cannot use.
	if u, err := url.Parse(endpoint); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, nil, fmt.Errorf("%s=%q: want an http:// or https:// URL", name, endpoint)
	}
	opts := []otlptracehttp.Option{otlptracehttp.WithEndpointURL(endpoint)}
	if h := getenv("OTEL_EXPORTER_OTLP_HEADERS"); h != "" {
		headers, err := parseHeaders(h)
		if err != nil {
			return nil, nil, fmt.Errorf("OTEL_EXPORTER_OTLP_HEADERS: %w", err)
		}
		opts = append(opts, otlptracehttp.WithHeaders(headers))
	}
	exp, err := otlptracehttp.New(ctx, opts...)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", name, err)
	}
	service := getenv("OTEL_SERVICE_NAME")
	if service == "" {
		service = defaultServiceName
	}
	res, err := resource.New(ctx,
		resource.WithTelemetrySDK(),
		resource.WithFromEnv(),
		resource.WithAttributes(semconv.ServiceName(service)))
	if err != nil {
		return nil, nil, fmt.Errorf("OTEL_RESOURCE_ATTRIBUTES: %w", err)
	}
	tp := sdktrace.NewTracerProvider(sdktrace.WithBatcher(exp), sdktrace.WithResource(res))
	return tp, tp.Shutdown, nil
}

// parseHeaders reads the OTLP headers list: key=value pairs separated by
// commas, values URL-encoded.
func parseHeaders(s string) (map[string]string, error) {
	out := map[string]string{}
	for pair := range strings.SplitSeq(s, ",") {
		if strings.TrimSpace(pair) == "" {
			continue
		}
		k, v, ok := strings.Cut(pair, "=")
		k = strings.TrimSpace(k)
		if !ok || k == "" {
			return nil, fmt.Errorf("%q is not key=value", pair)
		}
		v, err := url.PathUnescape(strings.TrimSpace(v))
		if err != nil {
			return nil, fmt.Errorf("%q: %w", pair, err)
		}
		out[k] = v
	}
	return out, nil
}

// Enabled reports whether tp records spans: false for nil and for the
// no-op provider Setup returns when tracing is off.
func Enabled(tp trace.TracerProvider) bool {
	switch tp.(type) {
	case nil, noop.TracerProvider:
		return false
	}
	return true
}

// Handler wraps h in otelhttp, making each request a server span (named
// by method and route: requestSpanName) carried in the
// request's context, so everything below, log lines included, can find
// it. An incoming W3C traceparent header continues the caller's trace.
// With tracing off it returns h itself.
func Handler(tp trace.TracerProvider, h http.Handler) http.Handler {
	if !Enabled(tp) {
		return h
	}
	return otelhttp.NewHandler(h, "http.server",
		otelhttp.WithTracerProvider(tp),
		otelhttp.WithMeterProvider(metricnoop.NewMeterProvider()), // metrics: internal/metrics
		otelhttp.WithPropagators(propagation.TraceContext{}),
		otelhttp.WithSpanNameFormatter(requestSpanName),
	)
}

// requestSpanName is "METHOD route": the mux's pattern ("GET /healthz"),
// or "POST /graphql" for the GraphQL requests that skip the mux; just the
// method for a path no route matched (a client's path is unbounded).
func requestSpanName(_ string, r *http.Request) string {
	switch {
	case r.Pattern != "":
		return r.Pattern
	case r.URL.Path == "/graphql":
		return r.Method + " /graphql"
	}
	return r.Method
}

// InstrumentRedis adds go-redis's tracing hook (redisotel) to rdb: a client
// span per command or pipeline, on every node of a cluster. Command
// arguments are left out (they hold session keys) and so is the caller's
// file and line (a stack walk per command). With tracing off it adds
// nothing.
func InstrumentRedis(tp trace.TracerProvider, rdb redis.UniversalClient) error {
	if !Enabled(tp) {
		return nil
	}
	if err := redisotel.InstrumentTracing(rdb,
		redisotel.WithTracerProvider(tp),
		redisotel.WithDBStatement(false),
		redisotel.WithCallerEnabled(false),
	); err != nil {
		return fmt.Errorf("trace redis: %w", err)
	}
	return nil
}
