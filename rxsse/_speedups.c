/*
 * rxsse._speedups: the WHATWG event-stream decoder in C, and one string check
 * of the ANSI-to-HTML converter's hot path (ascii_html_safe, at the end).
 *
 * SSEDecoder here has exactly the semantics and the Python API of the
 * pure-Python rxsse.decoder.PySSEDecoder (read that module's docstring for
 * the rules and the deliberate divergences); rxsse.decoder picks this one
 * when it is built.  The conformance and property tests run against both.
 *
 * How it works: bytes are scanned line by line with memchr; a line split
 * across chunks is carried in a buffer; data values are appended (each with
 * its LF) to a byte buffer, and at dispatch the buffer minus its final LF is
 * decoded as UTF-8 with U+FFFD replacement.  Decoding field values rather
 * than the stream gives the same text, because every delimiter is ASCII and
 * replacement never swallows an ASCII byte.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <string.h>

static PyObject *EventType;        /* rxsse._event.ServerSentEvent */
static PyObject *LineTooLongType;  /* rxsse.errors.LineTooLong */
static PyObject *EventTooLargeType;
static PyObject *str_message;      /* "message" */
static PyObject *str_empty;        /* "" */

#define DEFAULT_LIMIT (16 * 1024 * 1024)
#define MAX_RETRY_DIGITS 18        /* longer retry values are clamped to 10**18 ms */

static const unsigned char BOM[3] = {0xEF, 0xBB, 0xBF};

/* -- a growable byte buffer -------------------------------------------------- */

typedef struct {
    char *buf;
    Py_ssize_t len;
    Py_ssize_t cap;
} Buffer;

static int
buffer_append(Buffer *b, const char *p, Py_ssize_t n)
{
    if (b->len + n > b->cap) {
        Py_ssize_t cap = b->cap ? b->cap : 256;
        while (cap < b->len + n) {
            if (cap > PY_SSIZE_T_MAX / 2) {
                PyErr_NoMemory();
                return -1;
            }
            cap *= 2;
        }
        char *grown = PyMem_Realloc(b->buf, (size_t)cap);
        if (grown == NULL) {
            PyErr_NoMemory();
            return -1;
        }
        b->buf = grown;
        b->cap = cap;
    }
    if (n) {
        memcpy(b->buf + b->len, p, (size_t)n);
        b->len += n;
    }
    return 0;
}

static void
buffer_free(Buffer *b)
{
    PyMem_Free(b->buf);
    b->buf = NULL;
    b->len = b->cap = 0;
}

/* Keep memory bounded by the largest recent need, not the largest ever. */
static void
buffer_shrink(Buffer *b)
{
    if (b->cap > 1024 * 1024 && b->len == 0) {
        buffer_free(b);
    }
}

/* -- the decoder object ------------------------------------------------------ */

typedef struct {
    PyObject_HEAD
    Py_ssize_t max_line_size;
    Py_ssize_t max_event_size;
    PyObject *last_event_id;  /* str: committed at dispatch */
    PyObject *retry;          /* int or None: the stream-wide reconnection time */
    PyObject *id_buffer;      /* str: the last-event-ID buffer */
    PyObject *block_retry;    /* int or None: a retry set inside the current block */
    PyObject *error;          /* the SSEProtocolError that failed the decoder, or NULL */
    Buffer line;              /* the unfinished line carried over from earlier chunks */
    Buffer data;              /* the data buffer: each value followed by LF */
    Buffer event;             /* the event type buffer */
    Buffer last_type;         /* the bytes of the last event type decoded ... */
    PyObject *last_type_str;  /* ... and that str (NULL: none yet): types repeat */
    int skip_lf;              /* the last byte seen was a CR: swallow one LF */
    int bom;                  /* BOM bytes matched at the stream start (0-2), or -1 */
} Decoder;

static void
reset_stream(Decoder *self)
{
    self->bom = 0;
    self->skip_lf = 0;
    self->line.len = 0;
    self->data.len = 0;
    self->event.len = 0;
    buffer_shrink(&self->line);
    buffer_shrink(&self->data);
    Py_INCREF(self->last_event_id);
    Py_SETREF(self->id_buffer, self->last_event_id);
    Py_INCREF(Py_None);
    Py_SETREF(self->block_retry, Py_None);
}

static PyObject *
decode_text(const char *p, Py_ssize_t n)
{
    return PyUnicode_DecodeUTF8(p, n, "replace");
}

/* Raise a LineTooLong or EventTooLarge carrying `out` and fail the decoder. */
static void
fail(Decoder *self, PyObject *type, const char *what, const char *limit_name,
     Py_ssize_t limit, Py_ssize_t size, PyObject *out)
{
    PyObject *message = PyUnicode_FromFormat("%s longer than %s=%zd bytes", what,
                                             limit_name, limit);
    if (message == NULL) {
        return;
    }
    PyObject *args = PyTuple_Pack(1, message);
    Py_DECREF(message);
    if (args == NULL) {
        return;
    }
    PyObject *kwargs = Py_BuildValue("{s:n,s:n}", "limit", limit, "size", size);
    if (kwargs == NULL) {
        Py_DECREF(args);
        return;
    }
    PyObject *exc = PyObject_Call(type, args, kwargs);
    Py_DECREF(args);
    Py_DECREF(kwargs);
    if (exc == NULL) {
        return;
    }
    if (PyObject_SetAttrString(exc, "events", out) < 0) {
        Py_DECREF(exc);
        return;
    }
    Py_XSETREF(self->error, exc);
    PyErr_SetObject((PyObject *)Py_TYPE(exc), exc);
}

static PyObject *
new_event(PyObject *event, PyObject *data, PyObject *id, PyObject *retry)
{
    PyTypeObject *type = (PyTypeObject *)EventType;
    PyObject *ev = type->tp_alloc(type, 4);
    if (ev == NULL) {
        return NULL;
    }
    Py_INCREF(id);
    Py_INCREF(retry);
    PyTuple_SET_ITEM(ev, 0, event);
    PyTuple_SET_ITEM(ev, 1, data);
    PyTuple_SET_ITEM(ev, 2, id);
    PyTuple_SET_ITEM(ev, 3, retry);
    return ev;
}

/* The event type buffer as str (a new reference), reusing the last one when equal. */
static PyObject *
event_type(Decoder *self)
{
    Buffer *event = &self->event;
    if (self->last_type_str != NULL && self->last_type.len == event->len &&
        memcmp(self->last_type.buf, event->buf, (size_t)event->len) == 0) {
        return Py_NewRef(self->last_type_str);
    }
    PyObject *type = decode_text(event->buf, event->len);
    if (type == NULL) {
        return NULL;
    }
    self->last_type.len = 0;
    if (buffer_append(&self->last_type, event->buf, event->len) < 0) {
        Py_DECREF(type);
        return NULL;
    }
    Py_XSETREF(self->last_type_str, Py_NewRef(type));
    return type;
}

/* An empty line: commit the ID, emit an event if there is data, reset the block. */
static int
dispatch(Decoder *self, PyObject *out)
{
    if (self->last_event_id != self->id_buffer) {
        Py_INCREF(self->id_buffer);
        Py_SETREF(self->last_event_id, self->id_buffer);
    }
    if (self->data.len) {
        PyObject *data = decode_text(self->data.buf, self->data.len - 1);
        if (data == NULL) {
            return -1;
        }
        PyObject *type;
        if (self->event.len) {
            type = event_type(self);
            if (type == NULL) {
                Py_DECREF(data);
                return -1;
            }
        }
        else {
            type = Py_NewRef(str_message);
        }
        PyObject *ev = new_event(type, data, self->id_buffer, self->block_retry);
        if (ev == NULL) {
            Py_DECREF(type);
            Py_DECREF(data);
            return -1;
        }
        int rc = PyList_Append(out, ev);
        Py_DECREF(ev);
        if (rc < 0) {
            return -1;
        }
        self->data.len = 0;
    }
    self->event.len = 0;
    if (self->block_retry != Py_None) {
        Py_INCREF(Py_None);
        Py_SETREF(self->block_retry, Py_None);
    }
    return 0;
}

static int
set_retry(Decoder *self, const char *value, Py_ssize_t n)
{
    if (n == 0) {
        return 0;
    }
    for (Py_ssize_t i = 0; i < n; i++) {
        if (value[i] < '0' || value[i] > '9') {
            return 0; /* not all ASCII digits: ignored */
        }
    }
    while (n > 1 && *value == '0') {
        value++;
        n--;
    }
    long long ms = 0;
    if (n > MAX_RETRY_DIGITS) {
        ms = 1000000000000000000LL;
    }
    else {
        for (Py_ssize_t i = 0; i < n; i++) {
            ms = ms * 10 + (value[i] - '0');
        }
    }
    PyObject *retry = PyLong_FromLongLong(ms);
    if (retry == NULL) {
        return -1;
    }
    Py_INCREF(retry);
    Py_SETREF(self->retry, retry);
    Py_SETREF(self->block_retry, retry);
    return 0;
}

/* One complete line, without its terminator. */
static int
process_line(Decoder *self, const char *p, Py_ssize_t n, PyObject *out)
{
    if (n == 0) {
        return dispatch(self, out);
    }
    if (n > self->max_line_size) {
        fail(self, LineTooLongType, "line", "max_line_size", self->max_line_size, n, out);
        return -1;
    }
    if (*p == ':') {
        return 0; /* a comment */
    }
    const char *colon = memchr(p, ':', (size_t)n);
    Py_ssize_t name_len;
    const char *value;
    Py_ssize_t value_len;
    if (colon != NULL) {
        name_len = colon - p;
        value = colon + 1;
        value_len = n - name_len - 1;
        if (value_len && *value == ' ') {
            value++;
            value_len--;
        }
    }
    else {
        name_len = n;
        value = p + n;
        value_len = 0;
    }
    switch (name_len) {
    case 4:
        if (memcmp(p, "data", 4) == 0) {
            Py_ssize_t size = self->data.len + value_len;
            if (size > self->max_event_size) {
                fail(self, EventTooLargeType, "event data", "max_event_size",
                     self->max_event_size, size, out);
                return -1;
            }
            if (buffer_append(&self->data, value, value_len) < 0 ||
                buffer_append(&self->data, "\n", 1) < 0) {
                return -1;
            }
        }
        return 0;
    case 5:
        if (memcmp(p, "event", 5) == 0) {
            self->event.len = 0;
            return buffer_append(&self->event, value, value_len);
        }
        if (memcmp(p, "retry", 5) == 0) {
            return set_retry(self, value, value_len);
        }
        return 0;
    case 2:
        if (p[0] == 'i' && p[1] == 'd' && memchr(value, '\0', (size_t)value_len) == NULL) {
            PyObject *id = value_len ? decode_text(value, value_len) : Py_NewRef(str_empty);
            if (id == NULL) {
                return -1;
            }
            Py_SETREF(self->id_buffer, id);
        }
        return 0;
    default:
        return 0; /* an unknown field */
    }
}

/* Decode stream bytes (after the BOM check). */
static int
process(Decoder *self, const char *p, Py_ssize_t n, PyObject *out)
{
    const char *end = p + n;
    if (self->skip_lf && p < end) {
        self->skip_lf = 0;
        if (*p == '\n') {
            p++;
        }
    }
    /* The next CR and LF at or after p (NULL: none before end). */
    const char *next_cr = p < end ? memchr(p, '\r', (size_t)(end - p)) : NULL;
    const char *next_lf = p < end ? memchr(p, '\n', (size_t)(end - p)) : NULL;
    while (p < end) {
        const char *eol;
        if (next_lf != NULL && (next_cr == NULL || next_lf < next_cr)) {
            eol = next_lf;
        }
        else {
            eol = next_cr;
        }
        if (eol == NULL) {
            Py_ssize_t partial = self->line.len + (end - p);
            if (partial > self->max_line_size) {
                fail(self, LineTooLongType, "line", "max_line_size", self->max_line_size,
                     partial, out);
                return -1;
            }
            return buffer_append(&self->line, p, end - p);
        }
        int rc;
        if (self->line.len) {
            if (buffer_append(&self->line, p, eol - p) < 0) {
                return -1;
            }
            rc = process_line(self, self->line.buf, self->line.len, out);
            self->line.len = 0;
        }
        else {
            rc = process_line(self, p, eol - p, out);
        }
        if (rc < 0) {
            return -1;
        }
        p = eol + 1;
        if (*eol == '\r') {
            if (p == end) {
                self->skip_lf = 1; /* the line ended at once; a LF may follow */
                return 0;
            }
            if (*p == '\n') {
                next_lf = p + 1 < end ? memchr(p + 1, '\n', (size_t)(end - p - 1)) : NULL;
                p++;
            }
            next_cr = p < end ? memchr(p, '\r', (size_t)(end - p)) : NULL;
        }
        else if (p < end) {
            next_lf = memchr(p, '\n', (size_t)(end - p));
        }
    }
    return 0;
}

static int
Decoder_init(Decoder *self, PyObject *args, PyObject *kwds)
{
    static char *kwlist[] = {"max_line_size", "max_event_size", "last_event_id", "retry", NULL};
    Py_ssize_t max_line_size = DEFAULT_LIMIT;
    Py_ssize_t max_event_size = DEFAULT_LIMIT;
    PyObject *last_event_id = str_empty;
    PyObject *retry = Py_None;
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "|$nnUO:SSEDecoder", kwlist, &max_line_size,
                                     &max_event_size, &last_event_id, &retry)) {
        return -1;
    }
    if (max_line_size < 1 || max_event_size < 1) {
        PyErr_SetString(PyExc_ValueError, "max_line_size and max_event_size must be positive");
        return -1;
    }
    if (retry != Py_None && !PyLong_Check(retry)) {
        PyErr_SetString(PyExc_TypeError, "retry must be an int or None");
        return -1;
    }
    self->max_line_size = max_line_size;
    self->max_event_size = max_event_size;
    Py_INCREF(last_event_id);
    Py_XSETREF(self->last_event_id, last_event_id);
    Py_INCREF(retry);
    Py_XSETREF(self->retry, retry);
    Py_CLEAR(self->error);
    reset_stream(self); /* Decoder_new set every object field, so this replaces them */
    return 0;
}

static PyObject *
Decoder_new(PyTypeObject *type, PyObject *args, PyObject *kwds)
{
    Decoder *self = (Decoder *)type->tp_alloc(type, 0);
    if (self == NULL) {
        return NULL;
    }
    self->max_line_size = DEFAULT_LIMIT;
    self->max_event_size = DEFAULT_LIMIT;
    self->last_event_id = Py_NewRef(str_empty);
    self->retry = Py_NewRef(Py_None);
    self->id_buffer = Py_NewRef(str_empty);
    self->block_retry = Py_NewRef(Py_None);
    return (PyObject *)self;
}

static int
Decoder_traverse(Decoder *self, visitproc visit, void *arg)
{
    Py_VISIT(self->error);
    return 0;
}

static int
Decoder_clear(Decoder *self)
{
    Py_CLEAR(self->error);
    return 0;
}

static void
Decoder_dealloc(Decoder *self)
{
    PyObject_GC_UnTrack(self);
    Decoder_clear(self);
    Py_CLEAR(self->last_event_id);
    Py_CLEAR(self->retry);
    Py_CLEAR(self->id_buffer);
    Py_CLEAR(self->block_retry);
    Py_CLEAR(self->last_type_str);
    buffer_free(&self->last_type);
    buffer_free(&self->line);
    buffer_free(&self->data);
    buffer_free(&self->event);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

static PyObject *
raise_failed(Decoder *self)
{
    PyErr_SetObject((PyObject *)Py_TYPE(self->error), self->error);
    return NULL;
}

static PyObject *
Decoder_feed(Decoder *self, PyObject *chunk)
{
    if (self->error != NULL) {
        return raise_failed(self);
    }
    Py_buffer view;
    PyObject *copy = NULL; /* a contiguous copy of a chunk that is not contiguous */
    if (PyObject_GetBuffer(chunk, &view, PyBUF_SIMPLE) < 0) {
        if (!PyErr_ExceptionMatches(PyExc_BufferError)) {
            return NULL;
        }
        PyErr_Clear();
        copy = PyBytes_FromObject(chunk);
        if (copy == NULL) {
            return NULL;
        }
        if (PyObject_GetBuffer(copy, &view, PyBUF_SIMPLE) < 0) {
            Py_DECREF(copy);
            return NULL;
        }
    }
    PyObject *out = PyList_New(0);
    if (out == NULL) {
        PyBuffer_Release(&view);
        Py_XDECREF(copy);
        return NULL;
    }
    const char *p = view.buf;
    Py_ssize_t n = view.len;
    if (self->bom >= 0) {
        /* The stream start: skip one UTF-8 BOM, even when split across chunks. */
        while (n && self->bom < 3 && (unsigned char)*p == BOM[self->bom]) {
            self->bom++;
            p++;
            n--;
        }
        if (self->bom == 3) {
            self->bom = -1;
        }
        else if (n) {
            /* Not a BOM after all: what matched so far starts the first line
               (it holds no line end, and the line limit applies to the whole). */
            int matched = self->bom;
            self->bom = -1;
            if (matched && buffer_append(&self->line, (const char *)BOM, matched) < 0) {
                goto error;
            }
        }
    }
    if (n && process(self, p, n, out) < 0) {
        goto error;
    }
    PyBuffer_Release(&view);
    Py_XDECREF(copy);
    return out;
error:
    PyBuffer_Release(&view);
    Py_XDECREF(copy);
    Py_DECREF(out);
    return NULL;
}

static PyObject *
Decoder_close(Decoder *self, PyObject *Py_UNUSED(ignored))
{
    if (self->error != NULL) {
        return raise_failed(self);
    }
    reset_stream(self);
    return PyList_New(0);
}

static PyObject *
Decoder_get_last_event_id(Decoder *self, void *Py_UNUSED(closure))
{
    return Py_NewRef(self->last_event_id);
}

static int
Decoder_set_last_event_id(Decoder *self, PyObject *value, void *Py_UNUSED(closure))
{
    if (value == NULL || !PyUnicode_Check(value)) {
        PyErr_SetString(PyExc_TypeError, "last_event_id must be a str");
        return -1;
    }
    Py_INCREF(value);
    Py_SETREF(self->last_event_id, value);
    return 0;
}

static PyObject *
Decoder_get_retry(Decoder *self, void *Py_UNUSED(closure))
{
    return Py_NewRef(self->retry);
}

static int
Decoder_set_retry(Decoder *self, PyObject *value, void *Py_UNUSED(closure))
{
    if (value == NULL || (value != Py_None && !PyLong_Check(value))) {
        PyErr_SetString(PyExc_TypeError, "retry must be an int or None");
        return -1;
    }
    Py_INCREF(value);
    Py_SETREF(self->retry, value);
    return 0;
}

static PyGetSetDef Decoder_getset[] = {
    {"last_event_id", (getter)Decoder_get_last_event_id, (setter)Decoder_set_last_event_id,
     "The last committed event ID.", NULL},
    {"retry", (getter)Decoder_get_retry, (setter)Decoder_set_retry,
     "The reconnection time in milliseconds most recently set by the stream, or None.", NULL},
    {NULL},
};

static PyMethodDef Decoder_methods[] = {
    {"feed", (PyCFunction)Decoder_feed, METH_O,
     "feed($self, chunk, /)\n--\n\n"
     "Decode chunk (bytes-like) and return the events it completed, in order."},
    {"close", (PyCFunction)Decoder_close, METH_NOARGS,
     "close($self, /)\n--\n\n"
     "End the stream: discard an unterminated event, reset the parser; return []."},
    {NULL},
};

static PyTypeObject DecoderType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "rxsse._speedups.SSEDecoder",
    .tp_doc = "SSEDecoder(*, max_line_size=16777216, max_event_size=16777216, last_event_id='', "
              "retry=None)\n--\n\n"
              "Incremental text/event-stream decoder for one connection (C implementation).\n\n"
              "feed(chunk) returns the events completed by chunk; chunks may be split anywhere.\n"
              "close() ends the stream: an unterminated event is discarded, the parser is reset\n"
              "for the next connection, last_event_id and retry are kept; it returns [].\n"
              "Same behaviour as rxsse.decoder.PySSEDecoder, whose docstrings state the rules.",
    .tp_basicsize = sizeof(Decoder),
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_BASETYPE | Py_TPFLAGS_HAVE_GC,
    .tp_new = Decoder_new,
    .tp_init = (initproc)Decoder_init,
    .tp_dealloc = (destructor)Decoder_dealloc,
    .tp_traverse = (traverseproc)Decoder_traverse,
    .tp_clear = (inquiry)Decoder_clear,
    .tp_methods = Decoder_methods,
    .tp_getset = Decoder_getset,
};

/* -- ascii_html_safe ----------------------------------------------------------- */

/* 1 for the ASCII characters a log line may hold as they are in HTML: TAB,
   LF and the printable ones except & < > " '.  (rxsse.domain.ansi keeps the
   same set in Python, as _UNSAFE_ASCII, for when this module is not built.) */
static unsigned char HTML_SAFE[128];

static void
init_html_safe(void)
{
    for (int c = 0x20; c < 0x7F; c++) {
        HTML_SAFE[c] = 1;
    }
    HTML_SAFE['\t'] = HTML_SAFE['\n'] = 1;
    HTML_SAFE['&'] = HTML_SAFE['<'] = HTML_SAFE['>'] = HTML_SAFE['"'] = HTML_SAFE['\''] = 0;
}

static PyObject *
ascii_html_safe(PyObject *Py_UNUSED(module), PyObject *line)
{
    if (!PyUnicode_Check(line)) {
        PyErr_Format(PyExc_TypeError, "expected str, not %.100s", Py_TYPE(line)->tp_name);
        return NULL;
    }
    if (!PyUnicode_IS_ASCII(line)) {
        Py_RETURN_FALSE;
    }
    const unsigned char *p = PyUnicode_1BYTE_DATA(line);
    Py_ssize_t n = PyUnicode_GET_LENGTH(line);
    for (Py_ssize_t i = 0; i < n; i++) {
        if (!HTML_SAFE[p[i]]) {
            Py_RETURN_FALSE;
        }
    }
    Py_RETURN_TRUE;
}

static PyMethodDef module_methods[] = {
    {"ascii_html_safe", ascii_html_safe, METH_O,
     "ascii_html_safe($module, line, /)\n--\n\n"
     "Whether line is ASCII and holds only TAB, LF and printable characters other than\n"
     "& < > \" ', so that it is its own HTML."},
    {NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT,
    .m_name = "rxsse._speedups",
    .m_doc = "C speedups for rxsse: the SSE decoder and a string check of the ANSI converter.",
    .m_size = -1,
    .m_methods = module_methods,
};

static PyObject *
import_attr(const char *module_name, const char *name)
{
    PyObject *mod = PyImport_ImportModule(module_name);
    if (mod == NULL) {
        return NULL;
    }
    PyObject *attr = PyObject_GetAttrString(mod, name);
    Py_DECREF(mod);
    return attr;
}

PyMODINIT_FUNC
PyInit__speedups(void)
{
    if (EventType == NULL) {
        EventType = import_attr("rxsse._event", "ServerSentEvent");
        LineTooLongType = import_attr("rxsse.errors", "LineTooLong");
        EventTooLargeType = import_attr("rxsse.errors", "EventTooLarge");
        str_message = PyUnicode_InternFromString("message");
        str_empty = PyUnicode_InternFromString("");
        if (EventType == NULL || LineTooLongType == NULL || EventTooLargeType == NULL ||
            str_message == NULL || str_empty == NULL) {
            Py_CLEAR(EventType);
            Py_CLEAR(LineTooLongType);
            Py_CLEAR(EventTooLargeType);
            return NULL;
        }
        if (!PyType_Check(EventType) ||
            !PyType_IsSubtype((PyTypeObject *)EventType, &PyTuple_Type)) {
            PyErr_SetString(PyExc_TypeError, "ServerSentEvent must be a tuple subclass");
            Py_CLEAR(EventType);
            return NULL;
        }
    }
    init_html_safe();
    if (PyType_Ready(&DecoderType) < 0) {
        return NULL;
    }
    PyObject *m = PyModule_Create(&module);
    if (m == NULL) {
        return NULL;
    }
    if (PyModule_AddObjectRef(m, "SSEDecoder", (PyObject *)&DecoderType) < 0) {
        Py_DECREF(m);
        return NULL;
    }
    return m;
}
