package claudetest

import (
	"net/http"
	"time"
)

// answer admits req against the account's limits, waits the model's
// latency and sends the message with its usage.
func (s *Server) answer(w http.ResponseWriter, r *http.Request, requestID string, req Request) {
	segs := segments(req)
	var total int64
	for _, sg := range segs {
		total += sg.tokens
	}
	total += toolPromptTokens(req)

	s.mu.Lock()
	now := time.Now()
	s.acct.refill(now)
	plan := planCache(now, req, segs, s.cache)
	// Cache reads do not count towards the input token limit; writes do.
	counted := total - plan.read
	wait, why, never := s.acct.admit(float64(counted), float64(req.MaxTokens))
	if wait > 0 || never {
		s.mu.Unlock()
		if never {
			// No wait makes it fit; the API still answers 429 and names the limit.
			wait = time.Minute
		}
		s.fail(w, requestID, Failure{
			Status: http.StatusTooManyRequests, Message: why,
			Header: map[string]string{"retry-after": retryAfterSeconds(wait)},
		})
		return
	}
	s.mu.Unlock()

	if !s.sleep(r, s.latency()) {
		// The client gave up: its request and input tokens stay spent, the
		// output estimate is settled at nothing generated.
		s.mu.Lock()
		s.acct.output.take(-float64(req.MaxTokens))
		s.mu.Unlock()
		return
	}
	msg, output := s.message(req, requestID)

	s.mu.Lock()
	now = time.Now()
	s.acct.refill(now)
	// The output estimate (max_tokens) taken at admission is settled now.
	s.acct.output.take(float64(output - req.MaxTokens))
	for _, cw := range plan.writes {
		s.cache[cw.key] = now.Add(cw.ttl)
	}
	s.stats.Succeeded++
	s.stats.InputTokens += total - plan.read - plan.write
	s.stats.OutputTokens += output
	s.stats.CacheCreationTokens += plan.write
	s.stats.CacheReadTokens += plan.read
	s.acct.setHeaders(w.Header(), now)
	s.mu.Unlock()

	write5m, write1h := plan.write, int64(0)
	if plan.write1h {
		write5m, write1h = 0, plan.write
	}
	msg["usage"] = map[string]any{
		"input_tokens":                total - plan.read - plan.write,
		"output_tokens":               output,
		"cache_creation_input_tokens": plan.write,
		"cache_read_input_tokens":     plan.read,
		"cache_creation":              map[string]any{"ephemeral_5m_input_tokens": write5m, "ephemeral_1h_input_tokens": write1h},
		"service_tier":                "standard",
	}
	writeJSON(w, http.StatusOK, msg)
}

func (s *Server) latency() time.Duration {
	if s.opts.Latency == nil {
		return 0
	}
	return max(0, s.opts.Latency())
}

// sleep waits d unless the client goes away first.
func (s *Server) sleep(r *http.Request, d time.Duration) bool {
	if d <= 0 {
		return r.Context().Err() == nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-r.Context().Done():
		return false
	}
}

// message builds the assistant message for req and the output tokens it cost.
func (s *Server) message(req Request, requestID string) (map[string]any, int64) {
	a := s.opts.Answer(req)
	content, stop := a.Content, a.StopReason
	if content == nil {
		if tool := req.ForcedTool(); tool != "" {
			content = []any{map[string]any{"type": "tool_use", "id": "toolu_" + requestID[4:], "name": tool, "input": a.ToolInput}}
			if stop == "" {
				stop = "tool_use"
			}
		} else {
			content = []any{map[string]any{"type": "text", "text": "Ich habe die E-Mail gelesen."}}
		}
	}
	if stop == "" {
		stop = "end_turn"
	}
	output := a.OutputTokens
	if output == 0 {
		output = outputTokens(content)
	}
	if output > req.MaxTokens {
		output, stop = req.MaxTokens, "max_tokens"
	}
	return map[string]any{
		"id": "msg_" + requestID[4:], "type": "message", "role": "assistant", "model": req.Model,
		"content": content, "stop_reason": stop, "stop_sequence": nil,
	}, output
}
