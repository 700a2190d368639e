package handler

import (
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// metrics are forwardauth's Prometheus metrics, on their own registry.
type metrics struct {
	reg      *prometheus.Registry
	validate *prometheus.CounterVec
	plex     *prometheus.CounterVec
	logins   *prometheus.CounterVec
	errors   *prometheus.CounterVec
	// refreshes counts sessions re-issued by /validate past their refresh point.
	refreshes prometheus.Counter
	latency   *prometheus.HistogramVec
}

func newMetrics() *metrics {
	m := &metrics{
		reg: prometheus.NewRegistry(),
		validate: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "plexgate_validate_requests_total",
			Help: "Answers of /validate by result: allowed, redirect, unauthorized, forbidden, bad_request.",
		}, []string{"result"}),
		plex: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "plexgate_plex_validate_total",
			Help: "Answers of /validate to requests decided by a Plex token, by result: allowed, invalid, forbidden, forbidden_path, unavailable, conflict, preflight.",
		}, []string{"result"}),
		logins: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "plexgate_logins_total",
			Help: "Completed login callbacks by result: success, denied, failed, provider_error.",
		}, []string{"result"}),
		errors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "plexgate_errors_total",
			Help: "Internal and provider errors by kind.",
		}, []string{"kind"}),
		refreshes: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "plexgate_session_refreshes_total",
			Help: "Sessions re-issued by /validate past their refresh point (also counted as allowed).",
		}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "plexgate_request_duration_seconds",
			Help:    "Request latency by handler.",
			Buckets: []float64{.0001, .0005, .001, .005, .01, .05, .1, .5, 1, 5},
		}, []string{"handler"}),
	}
	for _, r := range []string{"allowed", "redirect", "unauthorized", "forbidden", "bad_request"} {
		m.validate.WithLabelValues(r)
	}
	for _, r := range []string{"allowed", "invalid", "forbidden", "forbidden_path", "unavailable", "conflict", "preflight"} {
		m.plex.WithLabelValues(r)
	}
	for _, r := range []string{"success", "denied", "failed", "provider_error"} {
		m.logins.WithLabelValues(r)
	}
	m.reg.MustRegister(m.validate, m.plex, m.logins, m.errors, m.refreshes, m.latency,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

func (m *metrics) handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{})
}

// timed wraps h to observe its latency under name.
func (m *metrics) timed(name string, h http.HandlerFunc) http.Handler {
	obs := m.latency.WithLabelValues(name)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		h(w, r)
		obs.Observe(time.Since(start).Seconds())
	})
}
