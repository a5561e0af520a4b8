/**
 * {@code sbora serve}: an OpenAI-compatible HTTP server ({@code /v1/models}, {@code /v1/completions},
 * {@code /v1/chat/completions}, with server-sent-event streaming) over a base model and many adapters, whose
 * concurrent requests run as mixed batches in which each sequence goes through its own adapter.
 */
package io.sbora4j.cli.serve;
