// Package pipeline is what a worker does with a claimed email: clean it,
// extract the debt data, decide whether it is a creditor reply, match it to
// the inquiry, and record the result — advancing the visible status at each
// stage and saving each stage's result, so a retry resumes where the last
// attempt failed instead of paying the extractor again.
package pipeline

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/lawfirm/creditor-email-matcher/models"
	"github.com/lawfirm/creditor-email-matcher/services/background"
	"github.com/lawfirm/creditor-email-matcher/services/debts"
	"github.com/lawfirm/creditor-email-matcher/services/groupcommit"
	"github.com/lawfirm/creditor-email-matcher/services/matcher"
	"github.com/lawfirm/creditor-email-matcher/services/parser"
	"github.com/lawfirm/creditor-email-matcher/services/review"
	"github.com/lawfirm/creditor-email-matcher/services/store"
)

// Extractor reads debt data from a cleaned email (Claude or the German rules).
type Extractor interface {
	Extract(ctx context.Context, in models.EmailInput) (models.ExtractedData, error)
}

// Matcher finds the inquiry a reply answers.
type Matcher interface {
	Match(ctx context.Context, in matcher.Input) (matcher.Result, error)
}

// DebtWriter decides what the amount writes with the completion (nil when
// the reply states none), and the email's sync_status.
type DebtWriter interface {
	Record(e models.IncomingEmail, data models.ExtractedData, d debts.Decision) (*models.DebtRecord, string, error)
}

// Observer receives each stage's duration (for metrics); may be nil.
type Observer func(stage string, d time.Duration)

// AttachmentReader brings an email's attachments to stored rows and
// returns the texts of those read (services/attachments.Stage).
type AttachmentReader interface {
	Read(ctx context.Context, job *models.Job, list []models.Attachment) ([]models.AttachmentText, error)
}

// Option changes a Pipeline New builds.
type Option func(*Pipeline)

// WithAttachments makes the pipeline read an email's attachments (status
// reading_attachments) before extraction. Without it attachments are not
// opened.
func WithAttachments(r AttachmentReader) Option {
	return func(p *Pipeline) { p.attachments = r }
}

// ParkWhileExtracting makes the job give its worker slot back while the
// extractor runs (background.Park): for a remote model, whose calls wait on
// the network and the account's rate limit, not on this process. The
// extractor must hold no database connection. The rules extractor runs in
// the slot.
func ParkWhileExtracting() Option {
	return func(p *Pipeline) { p.park = true }
}

// Pipeline implements workers.Processor.
type Pipeline struct {
	store     *store.Store
	stages    *groupcommit.Batcher[*stageRequest]
	extractor Extractor
	matcher   Matcher
	debts     DebtWriter
	observe   Observer

	attachments AttachmentReader // nil: attachments are not read
	park        bool             // see ParkWhileExtracting
	limits      review.Limits    // the review guard's thresholds
}

// New returns a pipeline.
func New(st *store.Store, ex Extractor, m Matcher, w DebtWriter, observe Observer, opts ...Option) *Pipeline {
	if observe == nil {
		observe = func(string, time.Duration) {}
	}
	p := &Pipeline{store: st, extractor: ex, matcher: m, debts: w, observe: observe, limits: review.DefaultLimits()}
	for _, o := range opts {
		o(p)
	}
	p.stages = groupcommit.New(p.writeStages, groupcommit.Options[*stageRequest]{MaxItems: 64, Timeout: stageWriteTimeout})
	return p
}

// stageRequest is one job's stage move waiting to be written with others.
type stageRequest struct {
	move store.StageMove
	err  error
}

// stageWriteTimeout bounds a batch of stage moves, which no single job's
// context bounds: the batch holds other jobs' moves too.
const stageWriteTimeout = 30 * time.Second

// advance moves the job to the next stage. The workers' stage moves are
// written together, several per statement (see services/groupcommit), and
// commit asynchronously: a crash may lose a stage marker, never a result
// the retry could not compute again.
func (p *Pipeline) advance(ctx context.Context, move store.StageMove) error {
	r := &stageRequest{move: move}
	if err := p.stages.Do(ctx, r); err != nil {
		return err
	}
	return r.err
}

func (p *Pipeline) writeStages(ctx context.Context, reqs []*stageRequest) func() {
	moves := make([]store.StageMove, len(reqs))
	for i, r := range reqs {
		moves[i] = r.move
	}
	errs, err := p.store.AdvanceStages(ctx, moves)
	for i, r := range reqs {
		if err != nil {
			r.err = err
		} else {
			r.err = errs[i]
		}
	}
	return nil
}

// Quick marks an extractor that answers in microseconds from the text alone
// (the rules extractor): nothing outside is waited on, so its stages need
// not be visible while they run (DESIGN.md §4).
type Quick interface {
	Quick()
}

// Process runs every stage for job and returns the terminal status it wrote.
func (p *Pipeline) Process(ctx context.Context, job *models.Job) (models.Status, error) {
	// Every model call of the attempt adds its usage to job.LLM, which the
	// statement that finishes the attempt records.
	if job.LLM == nil {
		job.LLM = new(models.UsageMeter)
	}
	ctx = models.WithUsageMeter(ctx, job.LLM)
	if p.isQuick(job) {
		return p.quick(ctx, job)
	}
	if err := p.parse(ctx, job); err != nil {
		return "", err
	}
	texts, err := p.readAttachments(ctx, job)
	if err != nil {
		return "", err
	}
	data, err := p.extract(ctx, job, texts)
	if err != nil {
		return "", err
	}
	if !data.IsCreditorReply {
		return models.StatusNotCreditorReply, p.finish(ctx, job, store.NotCreditorReply())
	}
	return models.StatusCompleted, p.match(ctx, job, data, texts)
}

// isQuick says whether job takes the quick path: the extractor is Quick,
// the attempt starts from processing, and there are no attachments to read
// (reading them waits on downloads, a stage that must be visible).
func (p *Pipeline) isQuick(job *models.Job) bool {
	if _, ok := p.extractor.(Quick); !ok || job.Email.ProcessingStatus != models.StatusProcessing {
		return false
	}
	if p.attachments == nil {
		return true
	}
	list, err := job.Email.Attachments()
	return err == nil && len(list) == 0
}

// quick runs parse, extract and match in one go and records their stages
// (the results and each stage's time) with the final statement, instead of
// one stage write each: the email moves processing → completed (or
// not_creditor_reply) in the one statement guarded by the lease token. A
// crash before it loses only work the next attempt does again in
// microseconds; a stale lease writes nothing (models.ErrLeaseLost).
func (p *Pipeline) quick(ctx context.Context, job *models.Job) (models.Status, error) {
	start := time.Now()
	job.Reached(models.StatusParsed, start)
	move := p.cleaned(job)
	at := time.Now()
	p.observe("parse", at.Sub(start))

	job.Reached(models.StatusExtracting, at)
	data, saved := savedExtraction(job)
	if !saved {
		var err error
		if data, err = p.extractor.Extract(ctx, p.input(job, nil)); err != nil {
			return "", fmt.Errorf("extract: %w", err)
		}
		job.Email.ExtractedData = models.MustJSON(data)
		move = move.Merge(store.StageMove{Job: job, To: models.StatusExtracted, Extracted: job.Email.ExtractedData})
	}
	at2 := time.Now()
	job.Reached(models.StatusExtracted, at2)
	p.observe("extract", at2.Sub(at))
	if !data.IsCreditorReply {
		return models.StatusNotCreditorReply, p.finish(ctx, job, store.NotCreditorReply().WithStages(move))
	}

	job.Reached(models.StatusMatching, time.Now())
	final, err := p.decide(ctx, job, data, nil)
	if err != nil {
		return "", err
	}
	if err := p.finish(ctx, job, final.WithStages(move)); err != nil {
		return "", err
	}
	p.observe("match", time.Since(at2))
	return models.StatusCompleted, nil
}

// parse cleans the body unless an earlier attempt already did.
func (p *Pipeline) parse(ctx context.Context, job *models.Job) error {
	start := time.Now()
	if err := p.advance(ctx, p.cleaned(job)); err != nil {
		return err
	}
	p.observe("parse", time.Since(start))
	return nil
}

// cleaned is the move to parsed, with the cleaned body unless an earlier
// attempt saved it.
func (p *Pipeline) cleaned(job *models.Job) store.StageMove {
	move := store.StageMove{Job: job, To: models.StatusParsed}
	if job.Email.CleanedBody == nil {
		r := parser.Parse(job.Email.RawBodyHTML, job.Email.RawBodyText)
		job.Email.CleanedBody = &r.Text
		move.CleanedBody, move.TokensBefore, move.TokensAfter = &r.Text, &r.TokensBefore, &r.TokensAfter
	}
	return move
}

// input is what the extractor reads: the cleaned email and the texts of
// its attachments.
func (p *Pipeline) input(job *models.Job, texts []models.AttachmentText) models.EmailInput {
	return models.EmailInput{
		FromEmail: job.Email.FromEmail, FromName: job.Email.FromName,
		Subject: job.Email.Subject, CleanedBody: *job.Email.CleanedBody,
		Attachments: texts,
	}
}

// readAttachments reads the email's attachments, if it lists any and no
// earlier attempt saved an extraction (which already used them): status
// reading_attachments while the stage downloads and reads, each file's row
// stored as it is done (services/attachments).
func (p *Pipeline) readAttachments(ctx context.Context, job *models.Job) ([]models.AttachmentText, error) {
	if _, saved := savedExtraction(job); saved || p.attachments == nil {
		return nil, nil
	}
	list, err := job.Email.Attachments()
	if err != nil {
		return nil, models.Permanent(err)
	}
	if len(list) == 0 {
		return nil, nil
	}
	start := time.Now()
	if err := p.advance(ctx, store.StageMove{Job: job, To: models.StatusReadingAttachments}); err != nil {
		return nil, err
	}
	texts, err := p.attachments.Read(ctx, job, list)
	if err != nil {
		return nil, fmt.Errorf("attachments: %w", err)
	}
	p.observe("attachments", time.Since(start))
	return texts, nil
}

// savedExtraction is the extraction an earlier attempt saved, if any.
func savedExtraction(job *models.Job) (models.ExtractedData, bool) {
	var data models.ExtractedData
	saved := job.Email.ExtractedData
	return data, len(saved) > 0 && json.Unmarshal(saved, &data) == nil && data.Extractor != ""
}

// extract asks the extractor, over the body and the attachments' texts,
// unless an earlier attempt saved its answer.
func (p *Pipeline) extract(ctx context.Context, job *models.Job, texts []models.AttachmentText) (models.ExtractedData, error) {
	start := time.Now()
	if err := p.advance(ctx, store.StageMove{Job: job, To: models.StatusExtracting}); err != nil {
		return models.ExtractedData{}, err
	}
	if data, saved := savedExtraction(job); saved {
		return data, p.advanceExtracted(ctx, job, nil, false, start)
	}
	data, err := p.callExtractor(ctx, p.input(job, texts))
	if err != nil {
		return data, fmt.Errorf("extract: %w", err)
	}
	raw := models.MustJSON(data)
	job.Email.ExtractedData = raw
	return data, p.advanceExtracted(ctx, job, raw, data.Extractor == models.ExtractorClaude, start)
}

// callExtractor runs the extractor, parked when it is a remote model.
func (p *Pipeline) callExtractor(ctx context.Context, in models.EmailInput) (models.ExtractedData, error) {
	if !p.park {
		return p.extractor.Extract(ctx, in)
	}
	resume := background.Park(ctx)
	data, err := p.extractor.Extract(ctx, in)
	if rerr := resume(ctx); rerr != nil && err == nil {
		err = models.Transient(fmt.Errorf("resume after extraction: %w", rerr), 0)
	}
	return data, err
}

// advanceExtracted saves the extraction (raw; nil when an earlier attempt
// saved it). A fresh answer from the LLM cost money and time, so it waits
// for a durable commit of its own; a rules answer is cheap to compute again
// and goes with the other stage moves.
func (p *Pipeline) advanceExtracted(ctx context.Context, job *models.Job, raw models.JSON, durable bool, start time.Time) error {
	var err error
	if durable {
		err = p.store.SaveExtraction(ctx, job, raw)
	} else {
		err = p.advance(ctx, store.StageMove{Job: job, To: models.StatusExtracted, Extracted: raw})
	}
	if err != nil {
		return err
	}
	p.observe("extract", time.Since(start))
	return nil
}

// finish is the attempt's final write, the one call both paths end with:
// in one statement guarded by the lease token, the email's terminal state,
// what the stages recorded with it saved, the debt update with its outbox
// rows and the attempt's end — all of it once, or none.
func (p *Pipeline) finish(ctx context.Context, job *models.Job, f store.Final) error {
	return p.store.Finish(ctx, job, f)
}

// match decides the inquiry and, in one statement guarded by the lease
// token, marks the email completed, records the debt update with its outbox
// rows and closes the attempt: either all of it happens once, or none.
func (p *Pipeline) match(ctx context.Context, job *models.Job, data models.ExtractedData, texts []models.AttachmentText) error {
	start := time.Now()
	if err := p.advance(ctx, store.StageMove{Job: job, To: models.StatusMatching}); err != nil {
		return err
	}
	final, err := p.decide(ctx, job, data, texts)
	if err != nil {
		return err
	}
	if err := p.finish(ctx, job, final); err != nil {
		return err
	}
	p.observe("match", time.Since(start))
	return nil
}

// decide matches the reply to its inquiry and returns the completion to
// write, as the review guard allows it (review.go): the match, and the debt
// update with its outbox rows when an amount may be applied; a held email's
// review_needed row instead. texts are the attachments' texts read in this
// attempt (nil on the quick path, which has none).
func (p *Pipeline) decide(ctx context.Context, job *models.Job, data models.ExtractedData,
	texts []models.AttachmentText) (store.Final, error) {
	res, err := p.matcher.Match(ctx, matcher.Input{
		TicketID: job.Email.ZendeskTicketID, FromEmail: job.Email.FromEmail,
		Data: data, ReceivedAt: job.Email.ReceivedAt,
	})
	if err != nil {
		return store.Final{}, fmt.Errorf("match: %w", err)
	}
	return p.final(ctx, job, data, res, texts)
}

func clamp01(f float64) float64 { return max(0, min(1, f)) }
