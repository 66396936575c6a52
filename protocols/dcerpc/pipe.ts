// DCE-RPC over SMB named pipes (ncacn_np): the SMB
// dissector hands over the bytes written to and read from a pipe (SMB2
// WRITE/READ data, FSCTL_PIPE_TRANSCEIVE input/output, SMB1 transaction
// data) and owns the per-pipe state area.
//
// PDUs may be split over several calls and one call may carry several PDUs.
// A PDU that arrives whole in one call is parsed in place; otherwise its
// bytes are collected in a per-direction buffer of PIPE_BUFFER_BYTES. A PDU
// longer than that buffer is parsed from its beginning and the rest of it is
// skipped. The beginning contains every field this dissector reads except the
// tail of a long stub and the auth verifier.
//
// Pipe state layout (DCERPC_PIPE_STATE_BYTES), filled to the last byte:
//
//      0  connection area (connection.ts): CONNECTION_FIXED_BYTES (1696)
//         plus a stub buffer of PIPE_STUB_BYTES (1024)
//   2720  client-to-server buffer: u32 buffered, u32 bytes to skip,
//         u32 pipe rejected (this buffer only), u32 reserved, then
//         PIPE_BUFFER_BYTES of data
//   3408  server-to-client buffer, same layout, ending at 4096

import { countAnomaly } from "../../wasm-core/assembly/counters";
import {
  checkHeader, closeConnection, gapConnection, handlePdu, initConnection,
  storePipeContext, COMMON_HEADER_BYTES,
} from "./connection";
import { DcerpcAnomaly } from "./fields";

// Per open named pipe, owned and zeroed by the SMB dissector.
@inline export const DCERPC_PIPE_STATE_BYTES: u32 = 4096;

// Request stub kept across fragments for evidence. Windows sends requests in
// fragments of max_xmit_frag (4280 or 5840 bytes), and the evidence fields
// come first in the stubs this dissector reads.
@inline const PIPE_STUB_BYTES: u32 = 1024;
@inline const PIPE_CONNECTION_BYTES: u32 = 2720;
@inline const PIPE_BUFFER_HEADER_BYTES: u32 = 16;
@inline const PIPE_BUFFER_BYTES: u32 = 672;
@inline const PIPE_DIRECTION_BYTES: u32 = PIPE_BUFFER_HEADER_BYTES + PIPE_BUFFER_BYTES;
// u32 in the first direction buffer's reserved header bytes: 1 once the pipe
// was found not to carry DCE-RPC.
@inline const PIPE_REJECTED_OFFSET: u32 = 8;

// Sets the named pipe name and the SMB session's account for records written
// by the next dcerpcOnPipeData calls (UTF-8, lengths in bytes; 0 length =
// unknown). Values longer than 256 (name) or 168 bytes (user, domain) are cut.
export function dcerpcSetPipeContext(
  namedPipe: usize, namedPipeLength: u32,
  user: usize, userLength: u32,
  domain: usize, domainLength: u32,
): void {
  storePipeContext(namedPipe, namedPipeLength, user, userLength, domain, domainLength);
}

// Feeds bytes written to a named pipe (toServer) or read from it (!toServer).
// A pipe whose bytes are not DCE-RPC (PsExec's own pipes, for example) is
// counted once as `dcerpc.header_invalid` and then ignored.
export function dcerpcOnPipeData(pipeState: usize, toServer: bool, ptr: usize, length: u32): void {
  initConnection(pipeState, PIPE_STUB_BYTES);
  const rejected = pipeState + <usize>(PIPE_CONNECTION_BYTES + PIPE_REJECTED_OFFSET);
  if (load<u32>(rejected) != 0) return;
  const buffer = pipeState + <usize>(PIPE_CONNECTION_BYTES + (toServer ? 0 : PIPE_DIRECTION_BYTES));
  let at: u32 = 0;
  while (at < length) {
    const remaining = length - at;
    const skip = load<u32>(buffer, 4);
    if (skip > 0) {
      const n = skip < remaining ? skip : remaining;
      store<u32>(buffer, skip - n, 4);
      at += n;
      continue;
    }

    const buffered = load<u32>(buffer);
    if (buffered == 0 && remaining >= COMMON_HEADER_BYTES) {
      // Fast path: the PDU starts at a call boundary.
      const fragLength = checkHeader(ptr + <usize>at);
      if (fragLength == 0) {
        rejectPipe(pipeState);
        return;
      }
      if (remaining >= fragLength) {
        handlePdu(pipeState, true, ptr + <usize>at, fragLength);
        at += fragLength;
        continue;
      }
    }
    const consumed = collect(pipeState, buffer, ptr + <usize>at, remaining);
    if (consumed == 0) return;
    at += consumed;
  }
}

function rejectPipe(pipeState: usize): void {
  countAnomaly(DcerpcAnomaly.HEADER_INVALID);
  store<u32>(pipeState + <usize>(PIPE_CONNECTION_BYTES + PIPE_REJECTED_OFFSET), 1);
}

// Copies bytes of a split PDU into the direction buffer, parses the PDU when
// it is whole or the buffer is full, and returns the bytes consumed (0 when
// the header is not DCE-RPC and the pipe was rejected).
function collect(conn: usize, buffer: usize, src: usize, remaining: u32): u32 {
  const data = buffer + PIPE_BUFFER_HEADER_BYTES;
  let buffered = load<u32>(buffer);
  let consumed: u32 = 0;

  // Complete the common header first: frag_length is in it.
  if (buffered < COMMON_HEADER_BYTES) {
    let n = COMMON_HEADER_BYTES - buffered;
    if (n > remaining) n = remaining;
    memory.copy(data + <usize>buffered, src, n);
    buffered += n;
    consumed = n;
    store<u32>(buffer, buffered);
    if (buffered < COMMON_HEADER_BYTES) return consumed;
  }
  const fragLength = checkHeader(data);
  if (fragLength == 0) {
    store<u32>(buffer, 0);
    rejectPipe(conn);
    return 0;
  }

  const wanted = (fragLength < PIPE_BUFFER_BYTES ? fragLength : PIPE_BUFFER_BYTES) - buffered;
  let n = wanted < remaining - consumed ? wanted : remaining - consumed;
  memory.copy(data + <usize>buffered, src + <usize>consumed, n);
  buffered += n;
  consumed += n;
  store<u32>(buffer, buffered);

  if (buffered == fragLength || buffered == PIPE_BUFFER_BYTES) {
    handlePdu(conn, true, data, buffered);
    store<u32>(buffer, 0);
    store<u32>(buffer, fragLength - buffered, 4);
  }
  return consumed;
}

// Bytes of the pipe were lost (an SMB READ or WRITE that was not captured):
// drop the partial PDUs and resynchronise on the next call.
export function dcerpcOnPipeGap(pipeState: usize): void {
  initConnection(pipeState, PIPE_STUB_BYTES);
  for (let direction: u32 = 0; direction < 2; direction++) {
    const buffer = pipeState + <usize>(PIPE_CONNECTION_BYTES + direction * PIPE_DIRECTION_BYTES);
    store<u32>(buffer, 0);
    store<u32>(buffer, 0, 4);
  }
  gapConnection(pipeState, true);
}

// The pipe was closed (SMB CLOSE, tree disconnect, end of flow): reports the
// calls still waiting for a response.
export function dcerpcOnPipeClose(pipeState: usize): void {
  closeConnection(pipeState, true);
}
