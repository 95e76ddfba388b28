package store

import (
	"errors"

	"github.com/jackc/pgx/v5/pgconn"
)

// IsDataError reports whether PostgreSQL refused err's statement for what
// it carried: bad data, a broken constraint, or its own text (SQLSTATE
// classes 22, 23 and 42). The same statement fails again, so retrying it is
// no use. Connection, serialization, resource and shutdown errors (08, 40,
// 53, 57, 58) are not data errors: they pass.
func IsDataError(err error) bool {
	var pgErr *pgconn.PgError
	if !errors.As(err, &pgErr) || len(pgErr.Code) < 2 {
		return false
	}
	switch pgErr.Code[:2] {
	case "22", "23", "42":
		return true
	}
	return false
}

// rowRefused reports whether PostgreSQL answered err about a statement's
// rows (a constraint, bad data, a deadlock with another statement) rather
// than being unreachable, overloaded or shutting down, which writing the
// rows one by one cannot help.
func rowRefused(err error) bool {
	var pgErr *pgconn.PgError
	if !errors.As(err, &pgErr) || len(pgErr.Code) < 2 {
		return false // network, timeout, closed pool
	}
	switch pgErr.Code[:2] {
	case "08", "53", "57", "58", "XX": // connection, resources, shutdown/cancel, system, internal
		return false
	}
	return true
}
