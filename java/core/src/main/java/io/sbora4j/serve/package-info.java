/**
 * Serving many adapters over one frozen base: the {@link io.sbora4j.serve.AdapterRegistry} that loads, lists and
 * unloads named adapters, swaps one into the base weights exactly (restorable bit for bit), and runs mixed batches
 * in which each sequence names its own adapter.
 */
package io.sbora4j.serve;
