package claude

import (
	"bytes"
	"encoding/base64"
	"image"
	"image/png"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/lawfirm/creditor-email-matcher/services/attachments/read"
	"github.com/lawfirm/creditor-email-matcher/services/attachments/read/readtest"
	"github.com/lawfirm/creditor-email-matcher/services/claude/claudetest"
)

// letterText is what the fake model "reads" off the scanned letter.
const letterText = "Inkasso Sued GmbH\nForderungsaufstellung\nAktenzeichen: 512344_71020\nHauptforderung | 1.000,00 EUR\nGesamtforderung | 1.212,40 EUR"

// transcribing is a fake API that transcribes every file to letterText
// and records what it was sent.
func transcribing(t *testing.T) (*Extractor, api, *[]claudetest.Media) {
	t.Helper()
	var got []claudetest.Media
	e, a := setup(t, claudetest.Options{Answer: claudetest.Transcribing(func(m claudetest.Media) string {
		got = append(got, m)
		return letterText
	}, nil)})
	return e, a, &got
}

// dispatcher is the real reader with the model Transcriber.
func dispatcher(t *testing.T, e *Extractor) *read.Dispatcher {
	t.Helper()
	d, err := read.New(t.Context(), read.Config{TempDir: t.TempDir(), Transcriber: e.Transcriber()})
	require.NoError(t, err)
	return d
}

func TestTranscribesAScannedPDFWithOneDocumentBlock(t *testing.T) {
	t.Parallel()
	e, api, got := transcribing(t)
	pdf, err := readtest.ScannedPDF(2)
	require.NoError(t, err)

	res, err := dispatcher(t, e).Read(t.Context(), read.File{Name: "scan.pdf", Data: pdf})
	require.NoError(t, err)
	require.Equal(t, read.ReaderModel, res.Reader)
	require.Equal(t, "application/pdf", res.Type)
	require.Equal(t, 2, res.Pages)
	require.Contains(t, res.Text, "Gesamtforderung | 1.212,40 EUR")

	require.Len(t, *got, 1, "one call for the whole file")
	require.Equal(t, "document", (*got)[0].Block)
	require.Equal(t, "application/pdf", (*got)[0].MediaType)
	require.Equal(t, pdf, (*got)[0].Data, "the PDF as it came, base64")
	req := api.only(t)
	require.NotContains(t, req.body, "tools", "a transcription is plain text")
	require.InDelta(t, 2*transcribeTokensPerPage, req.body["max_tokens"], 0)
	content := req.body["messages"].([]any)[0].(map[string]any)["content"].([]any)
	require.Len(t, content, 2)
	doc := content[0].(map[string]any)
	require.Equal(t, "document", doc["type"])
	src := doc["source"].(map[string]any)
	require.Equal(t, "base64", src["type"])
	require.Equal(t, base64.StdEncoding.EncodeToString(pdf), src["data"])
	require.Equal(t, "text", content[1].(map[string]any)["type"])
	require.Equal(t, int64(1), api.Stats().Succeeded)
}

func TestTranscribesAnImageWithOneImageBlock(t *testing.T) {
	t.Parallel()
	e, _, got := transcribing(t)
	pngData, err := readtest.LetterPNG()
	require.NoError(t, err)

	res, err := dispatcher(t, e).Read(t.Context(), read.File{Name: "foto.png", Data: pngData})
	require.NoError(t, err)
	require.Equal(t, read.ReaderModel, res.Reader)
	require.Equal(t, 1, res.Pages)
	require.Contains(t, res.Text, "Aktenzeichen: 512344_71020")
	require.Len(t, *got, 1)
	require.Equal(t, "image", (*got)[0].Block)
	require.Equal(t, "image/png", (*got)[0].MediaType)
	require.Equal(t, pngData, (*got)[0].Data)
}

func TestTranscribesATIFFConvertedToPNG(t *testing.T) {
	t.Parallel()
	e, _, got := transcribing(t)
	tiffData, err := readtest.LetterTIFF()
	require.NoError(t, err)

	res, err := dispatcher(t, e).Read(t.Context(), read.File{Name: "fax.tif", Data: tiffData})
	require.NoError(t, err)
	require.Equal(t, read.ReaderModel, res.Reader)
	require.Len(t, *got, 1)
	require.Equal(t, "image/png", (*got)[0].MediaType, "the API takes no TIFF: converted")
	img, err := png.Decode(bytes.NewReader((*got)[0].Data))
	require.NoError(t, err)
	require.LessOrEqual(t, max(img.Bounds().Dx(), img.Bounds().Dy()), imageMaxEdge, "scaled to fit")
}

func TestTranscriberRefusesWhatTheModelCannotTake(t *testing.T) {
	t.Parallel()
	e, api, _ := transcribing(t)
	tr := e.Transcriber()
	path := filepath.Join(t.TempDir(), "x")
	require.NoError(t, os.WriteFile(path, []byte("II*\x00"), 0o600))

	_, err := tr.Transcribe(t.Context(), read.Scan{Type: "image/tiff", Path: path, Pages: 3})
	require.ErrorIs(t, err, read.ErrUnreadable)
	require.Contains(t, read.Reason(err), "multi-page TIFF")

	_, err = tr.Transcribe(t.Context(), read.Scan{Type: "application/pdf", Path: path, Pages: pdfMaxPages + 1})
	require.ErrorIs(t, err, read.ErrUnreadable)
	require.Contains(t, read.Reason(err), "too many pages")

	// A huge image is scaled down to fit the API's 5 MB per image.
	big := image.NewGray(image.Rect(0, 0, 4000, 3000))
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range big.Pix {
		big.Pix[i] = uint8(rng.IntN(256)) // noise: PNG cannot compress it
	}
	var buf bytes.Buffer
	require.NoError(t, png.Encode(&buf, big))
	require.Greater(t, buf.Len(), imageMaxBase64)
	require.NoError(t, os.WriteFile(path, buf.Bytes(), 0o600))
	res, err := tr.Transcribe(t.Context(), read.Scan{Type: "image/png", Path: path, Pages: 1})
	require.NoError(t, err)
	require.Equal(t, read.ReaderModel, res.Reader)
	require.Zero(t, api.Stats().Invalid, "the API never saw an image it would refuse")
	require.Equal(t, int64(1), api.Stats().Succeeded)
}

func TestTranscriberRefusedFileIsUnreadable(t *testing.T) {
	t.Parallel()
	e, api, _ := transcribing(t)
	api.FailNext(claudetest.Failure{Status: 400, Message: "The PDF specified was not valid."})
	pdf, err := readtest.ScannedPDF(1)
	require.NoError(t, err)
	_, err = dispatcher(t, e).Read(t.Context(), read.File{Name: "kaputt.pdf", Data: pdf})
	require.ErrorIs(t, err, read.ErrUnreadable)
	require.Contains(t, read.Reason(err), "the model refused the file")

	// A server error is for a later try, not the file's fault.
	api.FailNext(claudetest.Failure{Status: 500, Message: "Internal server error"})
	_, err = dispatcher(t, e).Read(t.Context(), read.File{Name: "scan.pdf", Data: pdf})
	require.Error(t, err)
	require.NotErrorIs(t, err, read.ErrUnreadable)
}
