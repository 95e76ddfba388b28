package claude

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"
	"unicode/utf8"

	"github.com/anthropics/anthropic-sdk-go/v2"
	"github.com/anthropics/anthropic-sdk-go/v2/option"

	"github.com/lawfirm/creditor-email-matcher/models"
)

// Extract returns models.ExtractedData with Extractor = models.ExtractorClaude.
// Every error is a *models.TransientError or a *models.PermanentError; see
// ExtractWithUsage.
func (e *Extractor) Extract(ctx context.Context, in models.EmailInput) (models.ExtractedData, error) {
	data, _, err := e.ExtractWithUsage(ctx, in)
	return data, err
}

// ExtractWithUsage is Extract that also returns the token usage of every
// answered call it made (normally one) and how many 429/529 answers it
// waited out. Usage is returned with errors too: a malformed answer was
// still paid for. The usage is also added to the meter ctx carries (see send).
//
// A 429 or 529 answer is not an error here: the call waits (every caller of
// the Limiter waits, until retry-after) and is sent again, for as long as
// ctx allows. If ctx ends while waiting, the error is a models.RateLimited
// one (errors.As finds a *models.RateLimitedError), which is not an attempt
// failure.
func (e *Extractor) ExtractWithUsage(ctx context.Context, in models.EmailInput) (models.ExtractedData, models.LLMUsage, error) {
	user := userMessage(in, e.maxInputRunes)
	msg, usage, err := e.send(ctx, e.params(user), e.estimate(user))
	if err != nil {
		return models.ExtractedData{}, usage, err
	}
	data, claims, err := answer(msg)
	if err != nil {
		return models.ExtractedData{}, usage, err
	}
	return checkSources(data, claims, in), usage, nil
}

// send makes one Messages API call through the Limiter: every model call of
// the package (extraction, transcription) goes through it, so every call is
// paced, its usage is spent from the budget (Permit.Done), added to the
// usage meter the context carries (models.WithUsageMeter: the attempt's
// llm_* columns) and returned. A 429 or 529 answer is waited out and the
// call sent again, for as long as ctx allows; if ctx ends first the error is
// a models.RateLimited one. Other errors are classified (models.Transient or
// models.Permanent).
func (e *Extractor) send(ctx context.Context, params anthropic.MessageNewParams, est Estimate,
	opts ...option.RequestOption) (*anthropic.Message, models.LLMUsage, error) {
	meter := models.UsageMeterFrom(ctx)
	var usage models.LLMUsage
	for {
		permit, err := e.limiter.Acquire(ctx, est)
		if err != nil {
			return nil, usage, err
		}
		var res *http.Response
		msg, err := e.client.Messages.New(ctx, params, append(opts, option.WithResponseInto(&res))...)
		out := outcome(res, msg, err)
		// Budget bookkeeping must not be lost to a cancellation right after.
		_ = permit.Done(context.WithoutCancel(ctx), out)
		if err == nil {
			usage.Add(out.Usage)
			meter.Add(out.Usage)
			return msg, usage, nil
		}
		if out.Status == http.StatusTooManyRequests || out.Status == statusOverloaded {
			usage.RateLimited++
			meter.Add(models.LLMUsage{RateLimited: 1})
			if ctx.Err() == nil {
				continue // Acquire waits for the pause the answer started
			}
			reason := models.WaitRateLimit
			if out.Status == statusOverloaded {
				reason = models.WaitOverloaded
			}
			return nil, usage, models.RateLimited(describe(ctx, err), reason, retryAfter(res, time.Now()))
		}
		return nil, usage, classify(ctx, err)
	}
}

// outcome describes a finished call for the Limiter.
func outcome(res *http.Response, msg *anthropic.Message, err error) Outcome {
	var o Outcome
	var sdkErr *anthropic.Error
	if errors.As(err, &sdkErr) && sdkErr.Response != nil {
		res = sdkErr.Response
	}
	if res != nil {
		o.Status, o.Header = res.StatusCode, res.Header
	}
	if err == nil && msg != nil {
		o.Usage = models.LLMUsage{
			InputTokens:      msg.Usage.InputTokens,
			OutputTokens:     msg.Usage.OutputTokens,
			CacheWriteTokens: msg.Usage.CacheCreationInputTokens,
			CacheReadTokens:  msg.Usage.CacheReadInputTokens,
			Calls:            1,
		}
	}
	return o
}

// answer validates the model's answer, and returns the sources it claims
// (checked against the email by checkSources).
func answer(msg *anthropic.Message) (models.ExtractedData, sourceClaims, error) {
	input, err := toolInput(msg)
	if err != nil {
		return models.ExtractedData{}, sourceClaims{}, models.Transient(fmt.Errorf("claude: %w", err), 0)
	}
	data, err := decodeAnswer(input)
	if err != nil {
		return models.ExtractedData{}, sourceClaims{}, models.Transient(fmt.Errorf("claude: %w", err), 0)
	}
	return data, decodeClaims(input), nil
}

// params builds the request: the cached prefix (the tool, then the system
// prompt carrying the cache breakpoint), the email as delimited data, and
// the one strict tool the model must call.
func (e *Extractor) params(user string) anthropic.MessageNewParams {
	return anthropic.MessageNewParams{
		Model:     e.model,
		MaxTokens: maxOutputTokens,
		System:    []anthropic.TextBlockParam{{Text: systemPrompt, CacheControl: prefixCacheControl()}},
		Messages: []anthropic.MessageParam{
			anthropic.NewUserMessage(anthropic.NewTextBlock(user)),
		},
		Tools: []anthropic.ToolUnionParam{{OfTool: extractionTool()}},
		ToolChoice: anthropic.ToolChoiceUnionParam{OfTool: &anthropic.ToolChoiceToolParam{
			Name:                   toolName,
			DisableParallelToolUse: anthropic.Bool(true),
		}},
	}
}

// estimate is the call's cost for the Limiter, from the request's text.
func (e *Extractor) estimate(user string) Estimate {
	prefix := tokensHigh(e.prefixRunes)
	return Estimate{
		InputTokens:     prefix + tokensHigh(utf8.RuneCountInString(user)) + toolPromptTokens,
		CacheableTokens: prefix,
		MaxOutputTokens: maxOutputTokens,
	}
}

// toolInput returns the raw input of our tool call, or why there is none.
func toolInput(msg *anthropic.Message) ([]byte, error) {
	switch msg.StopReason {
	case anthropic.StopReasonMaxTokens, anthropic.StopReasonRefusal,
		anthropic.StopReasonModelContextWindowExceeded, anthropic.StopReasonPauseTurn:
		return nil, fmt.Errorf("%w: stop reason %q", errMalformed, msg.StopReason)
	}
	for _, block := range msg.Content {
		if block.Type == "tool_use" && block.Name == toolName {
			return block.Input, nil
		}
	}
	return nil, fmt.Errorf("%w: no %s tool call in the response", errMalformed, toolName)
}
