package bench

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// Load is one measurement: Conns keep-alive HTTP/1.1 connections, each
// sending its next request as soon as the previous answer is read.
type Load struct {
	// Addr is Traefik's entrypoint, host:port.
	Addr string
	// Host is the Host header; Path the request target. Default "/".
	Host, Path string
	// Cookie is the session cookie's name; Tokens its values, request n
	// carrying Tokens[n mod len(Tokens)]. No Tokens: no Cookie header.
	Cookie string
	Tokens []string
	// Header, when set, carries the tokens in this header instead of the
	// cookie; Query, when set, in the query: the request target is Path,
	// "?", Query and the token (Query ends with the parameter's "name=").
	Header, Query string
	// Conns is the number of connections. Default 1.
	Conns int
	// Warmup runs before measuring; its requests are not counted.
	Warmup time.Duration
	// Duration is how long to measure. Ignored when Requests > 0.
	Duration time.Duration
	// Requests, when positive, sends exactly this many requests instead of
	// running for Duration (no warmup).
	Requests int
	// CPU, when set, is read at the start and the end of the measuring
	// window (Duration mode only).
	CPU func() CPUTimes
}

// Sample is what one Load measured.
type Sample struct {
	// Requests counts the answers read while measuring; Non200 those whose
	// status was not 200; Errors the connections that failed.
	Requests, Non200, Errors int
	// Elapsed is the measuring time.
	Elapsed time.Duration
	// Latencies are every measured request's latency, sorted.
	Latencies []time.Duration
	// FirstError is the first connection error, if any.
	FirstError error
	// CPU is the CPU time Load.CPU saw spent during the measuring window.
	CPU CPUTimes
}

// CPUPerRequest is the CPU time per measured request.
func (s Sample) CPUPerRequest() CPUTimes {
	if s.Requests == 0 {
		return CPUTimes{}
	}
	n := time.Duration(s.Requests)
	return CPUTimes{Traefik: s.CPU.Traefik / n, Total: s.CPU.Total / n}
}

// RPS is requests per second.
func (s Sample) RPS() float64 {
	if s.Elapsed <= 0 {
		return 0
	}
	return float64(s.Requests) / s.Elapsed.Seconds()
}

// Percentile returns the q-quantile latency (0 < q ≤ 1), nearest rank.
func (s Sample) Percentile(q float64) time.Duration {
	if len(s.Latencies) == 0 {
		return 0
	}
	i := int(q*float64(len(s.Latencies))+0.5) - 1
	return s.Latencies[min(max(i, 0), len(s.Latencies)-1)]
}

// loadRun is the shared state of one Load's workers.
type loadRun struct {
	load      Load
	prefix    []byte
	suffix    []byte
	next      atomic.Int64
	recording atomic.Bool
	stopped   atomic.Bool
}

// worker is one connection's tally.
type worker struct {
	requests, non200 int
	latencies        []time.Duration
	err              error
}

// Run executes l and returns what it measured.
func (l Load) Run(ctx context.Context) (Sample, error) {
	if l.Conns < 1 {
		l.Conns = 1
	}
	if l.Path == "" {
		l.Path = "/"
	}
	r := &loadRun{load: l}
	r.recording.Store(l.Requests > 0)
	r.prefix, r.suffix = requestParts(l)
	workers := make([]*worker, l.Conns)
	var wg sync.WaitGroup
	for i := range workers {
		w := &worker{latencies: make([]time.Duration, 0, 1<<14)}
		workers[i] = w
		wg.Add(1)
		go func() {
			defer wg.Done()
			w.err = r.work(ctx, w)
		}()
	}
	var elapsed time.Duration
	var cpu CPUTimes
	if l.Requests > 0 {
		start := time.Now()
		wg.Wait()
		elapsed = time.Since(start)
	} else {
		elapsed, cpu = r.clock(ctx)
		wg.Wait()
	}
	s := merge(workers, elapsed)
	s.CPU = cpu
	return s, ctx.Err()
}

// clock runs the warmup and the measuring window and returns the
// measuring time and the CPU time spent in it.
func (r *loadRun) clock(ctx context.Context) (time.Duration, CPUTimes) {
	cpu := r.load.CPU
	if cpu == nil {
		cpu = func() CPUTimes { return CPUTimes{} }
	}
	sleep(ctx, r.load.Warmup)
	r.recording.Store(true)
	start, cpuStart := time.Now(), cpu()
	sleep(ctx, r.load.Duration)
	r.stopped.Store(true)
	return time.Since(start), cpu().sub(cpuStart)
}

func sleep(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}

// requestParts builds the request bytes around the token.
func requestParts(l Load) (prefix, suffix []byte) {
	rest := " HTTP/1.1\r\nHost: " + l.Host + "\r\nUser-Agent: plexgate-bench\r\nAccept: */*\r\n"
	switch {
	case len(l.Tokens) == 0:
		return []byte("GET " + l.Path + rest + "\r\n"), nil
	case l.Query != "":
		return []byte("GET " + l.Path + "?" + l.Query), []byte(rest + "\r\n")
	case l.Header != "":
		return []byte("GET " + l.Path + rest + l.Header + ": "), []byte("\r\n\r\n")
	}
	return []byte("GET " + l.Path + rest + "Cookie: " + l.Cookie + "="), []byte("\r\n\r\n")
}

// work sends requests on one connection until the run stops, redialing
// when the server closes it.
func (r *loadRun) work(ctx context.Context, w *worker) error {
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", r.load.Addr)
	if err != nil {
		return fmt.Errorf("bench: dial %s: %w", r.load.Addr, err)
	}
	defer func() { conn.Close() }()
	bw, br := bufio.NewWriterSize(conn, 8192), bufio.NewReaderSize(conn, 16384)
	for !r.stopped.Load() && ctx.Err() == nil {
		n := int(r.next.Add(1) - 1)
		if r.load.Requests > 0 && n >= r.load.Requests {
			return nil
		}
		start := time.Now()
		status, keep, err := r.roundTrip(bw, br, n)
		if err != nil {
			return err
		}
		if r.recording.Load() {
			w.latencies = append(w.latencies, time.Since(start))
			w.requests++
			if status != 200 {
				w.non200++
			}
		}
		if !keep {
			conn.Close()
			if conn, err = d.DialContext(ctx, "tcp", r.load.Addr); err != nil {
				return fmt.Errorf("bench: redial %s: %w", r.load.Addr, err)
			}
			bw.Reset(conn)
			br.Reset(conn)
		}
	}
	return nil
}

// roundTrip sends request n and reads its answer.
func (r *loadRun) roundTrip(bw *bufio.Writer, br *bufio.Reader, n int) (status int, keep bool, err error) {
	_, _ = bw.Write(r.prefix)
	if tokens := r.load.Tokens; len(tokens) > 0 {
		_, _ = bw.WriteString(tokens[n%len(tokens)])
		_, _ = bw.Write(r.suffix)
	}
	if err := bw.Flush(); err != nil {
		return 0, false, fmt.Errorf("bench: write: %w", err)
	}
	return readResponse(br)
}

// errNoLength is returned for a response this reader cannot delimit.
var errNoLength = errors.New("bench: response has neither Content-Length nor an empty body")

// readResponse reads one HTTP/1.1 response with a Content-Length body and
// returns its status and whether the connection stays open.
func readResponse(br *bufio.Reader) (status int, keep bool, err error) {
	line, err := br.ReadSlice('\n')
	if err != nil {
		return 0, false, fmt.Errorf("bench: read status line: %w", err)
	}
	if len(line) < 12 || !bytes.HasPrefix(line, []byte("HTTP/1.1 ")) {
		return 0, false, fmt.Errorf("bench: bad status line %q", line)
	}
	if status, err = strconv.Atoi(string(line[9:12])); err != nil {
		return 0, false, fmt.Errorf("bench: bad status line %q", line)
	}
	length, keep, err := readHeaders(br)
	if err != nil {
		return 0, false, err
	}
	if length < 0 {
		if status != 204 && status != 304 {
			return 0, false, errNoLength
		}
		length = 0
	}
	if _, err := br.Discard(length); err != nil {
		return 0, false, fmt.Errorf("bench: read body: %w", err)
	}
	return status, keep, nil
}

// readHeaders reads header lines up to the empty one and returns the
// Content-Length (-1 when absent) and whether the connection stays open.
func readHeaders(br *bufio.Reader) (length int, keep bool, err error) {
	length, keep = -1, true
	for {
		line, err := br.ReadSlice('\n')
		if err != nil {
			return 0, false, fmt.Errorf("bench: read header: %w", err)
		}
		if len(bytes.TrimSpace(line)) == 0 {
			return length, keep, nil
		}
		name, value, _ := bytes.Cut(line, []byte(":"))
		value = bytes.TrimSpace(value)
		switch {
		case bytes.EqualFold(name, []byte("Content-Length")):
			if length, err = strconv.Atoi(string(value)); err != nil || length < 0 {
				return 0, false, fmt.Errorf("bench: bad Content-Length %q", value)
			}
		case bytes.EqualFold(name, []byte("Connection")) && bytes.EqualFold(value, []byte("close")):
			keep = false
		}
	}
}

// merge adds up the workers' tallies.
func merge(workers []*worker, elapsed time.Duration) Sample {
	s := Sample{Elapsed: elapsed}
	for _, w := range workers {
		s.Requests += w.requests
		s.Non200 += w.non200
		s.Latencies = append(s.Latencies, w.latencies...)
		if w.err != nil {
			s.Errors++
			if s.FirstError == nil {
				s.FirstError = w.err
			}
		}
	}
	slices.Sort(s.Latencies)
	return s
}
