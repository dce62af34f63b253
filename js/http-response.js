'use strict';

// Reads one HTTP/1.1 response from the bytes of a connection, however they
// are split: the status line and headers, then a body framed by
// content-length, by chunked transfer coding, or (for an error status only:
// see `end`) by the end of the connection. Interim (1xx) responses are
// passed over.

// More than any server the client talks to sends in a head or a chunk-size
// line; a longer one is a broken or hostile peer, not a response.
const MAX_HEAD = 64 * 1024;
const MAX_LINE = 4096;
// HubSpot's answers are a few KB; far more is not an answer to read whole.
const MAX_BODY = 16 * 1024 * 1024;
// A header name (RFC 9110 token).
const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

const CRLF = Buffer.from('\r\n');
const HEAD_END = Buffer.from('\r\n\r\n');

class ResponseError extends Error {
  constructor(message) {
    super(`malformed HTTP response: ${message}`);
    this.code = 'HPE_INVALID_RESPONSE';
  }
}

class ResponseParser {
  /** `method`: the request's (a response to HEAD has no body). */
  constructor(method) {
    this.headOnly = method === 'HEAD';
    // Bytes not parsed yet (only while they do not make a whole unit).
    this.pending = undefined;
    this.state = 'head';
    this.status = 0;
    this.headers = undefined;
    // Whether the connection may carry another request afterwards.
    this.reusable = false;
    this.body = [];
    this.size = 0;
    this.remaining = 0;
    // True once any byte arrived: a kept-alive connection that the server
    // closed before answering can then no longer be retried safely.
    this.started = false;
  }

  get done() {
    return this.state === 'done';
  }

  /** Parses `chunk`; true once the response is complete. */
  feed(chunk) {
    if (chunk.length > 0) this.started = true;
    let bytes = this.pending ? Buffer.concat([this.pending, chunk]) : chunk;
    this.pending = undefined;
    let at = 0;
    while (this.state !== 'done') {
      const used = this.step(bytes, at);
      if (used < 0) {
        // Not a whole unit yet: kept for the next chunk.
        if (at < bytes.length) this.pending = bytes.subarray(at);
        return false;
      }
      at = used;
    }
    // A response is followed by nothing until the next request.
    if (at < bytes.length) throw new ResponseError('data after the end of the response');
    return true;
  }

  /** The connection ended: completes a body that the end delimits. Not
   * for a success: a connection cut short (over TLS, without its closing
   * message too) would look the same, and a cut success body must not pass
   * for a whole one. */
  end() {
    if (this.state === 'until-close') {
      if (this.status < 300) throw new ResponseError('a success without a length, whose end cannot be told from a cut connection');
      this.state = 'done';
      return;
    }
    if (this.state !== 'done') throw new ResponseError('the connection closed before the response was complete');
  }

  /** The body as text. */
  text() {
    return this.body.length === 1 ? this.body[0].toString('utf8') : Buffer.concat(this.body).toString('utf8');
  }

  /** Parses from `at`; returns where parsing stopped, or -1 when more bytes
   * are needed. */
  step(bytes, at) {
    switch (this.state) {
      case 'head': {
        const end = bytes.indexOf(HEAD_END, at);
        if (end < 0) {
          if (bytes.length - at > MAX_HEAD) throw new ResponseError('the head is too long');
          return -1;
        }
        this.readHead(bytes.toString('latin1', at, end));
        return end + HEAD_END.length;
      }
      case 'length':
        return this.counted(bytes, at, 'done');
      case 'until-close':
        if (at === bytes.length) return -1;
        this.keep(bytes.subarray(at));
        return bytes.length;
      case 'chunk-size': {
        const line = this.line(bytes, at);
        if (line === undefined) return -1;
        const size = line.text.split(';', 1)[0].trim();
        if (!/^[0-9a-fA-F]{1,8}$/.test(size)) throw new ResponseError('bad chunk size');
        this.remaining = parseInt(size, 16);
        this.state = this.remaining === 0 ? 'trailers' : 'chunk';
        return line.next;
      }
      case 'chunk':
        return this.counted(bytes, at, 'chunk-end');
      case 'chunk-end': {
        const line = this.line(bytes, at);
        if (line === undefined) return -1;
        if (line.text !== '') throw new ResponseError('a chunk is longer than its size');
        this.state = 'chunk-size';
        return line.next;
      }
      case 'trailers': {
        const line = this.line(bytes, at);
        if (line === undefined) return -1;
        if (line.text === '') this.state = 'done';
        return line.next;
      }
      default:
        throw new Error(`unknown state ${this.state}`);
    }
  }

  /** Body bytes from `at`, up to the `remaining` count; then on to `next`. */
  counted(bytes, at, next) {
    const take = Math.min(this.remaining, bytes.length - at);
    if (take === 0) return -1;
    this.keep(bytes.subarray(at, at + take));
    this.remaining -= take;
    if (this.remaining === 0) this.state = next;
    return at + take;
  }

  keep(piece) {
    this.size += piece.length;
    if (this.size > MAX_BODY) throw new ResponseError('the body is over 16 MB');
    this.body.push(piece);
  }

  /** The line from `at` and where the next starts; undefined while its end
   * has not arrived. */
  line(bytes, at) {
    const end = bytes.indexOf(CRLF, at);
    if (end < 0) {
      if (bytes.length - at > MAX_LINE) throw new ResponseError('a line is too long');
      return undefined;
    }
    return { text: bytes.toString('latin1', at, end), next: end + CRLF.length };
  }

  readHead(text) {
    const lines = text.split('\r\n');
    const status = /^HTTP\/1\.([01]) ([1-9]\d\d)(?: [^\r\n]*)?$/.exec(lines[0]);
    if (!status) throw new ResponseError('bad status line');
    const code = Number(status[2]);
    if (code < 200) {
      // An interim response (100 Continue and the like): the real one
      // follows. 101 would switch protocols, which no request asks for.
      if (code === 101) throw new ResponseError('unexpected 101 Switching Protocols');
      return;
    }
    const headers = Object.create(null);
    for (let i = 1; i < lines.length; i++) {
      const colon = lines[i].indexOf(':');
      // A name that is not a token (a folded line, a space before the
      // colon), or a bare line feed: ways to hide a header, so refused.
      if (colon <= 0 || !TOKEN.test(lines[i].slice(0, colon)) || /[\r\n\0]/.test(lines[i])) throw new ResponseError('bad header line');
      const name = lines[i].slice(0, colon).toLowerCase();
      const value = lines[i].slice(colon + 1).trim();
      headers[name] = name in headers ? `${headers[name]}, ${value}` : value;
    }
    this.status = code;
    this.headers = headers;
    const keepAlive = status[1] === '1'
      ? !/(^|,)\s*close\s*(,|$)/i.test(headers.connection || '')
      : /(^|,)\s*keep-alive\s*(,|$)/i.test(headers.connection || '');
    this.reusable = keepAlive;
    if (this.headOnly || code === 204 || code === 304) {
      this.state = 'done';
    } else if (headers['transfer-encoding'] !== undefined) {
      // Both framings at once is how requests are smuggled; HTTP/1.0 has no
      // transfer codings; chunked must be the last coding, and only once.
      const codings = headers['transfer-encoding'].toLowerCase().split(',').map((c) => c.trim());
      const chunked = codings.filter((c) => c === 'chunked').length;
      if (headers['content-length'] !== undefined || status[1] === '0' || chunked > 1 || (chunked === 1 && codings.at(-1) !== 'chunked')) {
        throw new ResponseError('conflicting transfer-encoding');
      }
      if (chunked === 0) {
        // Another coding only: the body ends with the connection.
        this.state = 'until-close';
        this.reusable = false;
      } else {
        this.state = 'chunk-size';
      }
    } else if (headers['content-length'] !== undefined) {
      // Repeated as one list, the values must agree.
      const lengths = new Set(headers['content-length'].split(',').map((v) => v.trim()));
      const [length] = lengths;
      if (lengths.size !== 1 || !/^\d{1,15}$/.test(length)) throw new ResponseError('bad content-length');
      this.remaining = Number(length);
      this.state = this.remaining === 0 ? 'done' : 'length';
    } else {
      this.state = 'until-close';
      this.reusable = false;
    }
  }
}

module.exports = { ResponseParser, ResponseError };
