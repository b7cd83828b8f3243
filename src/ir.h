/* The graph IR that passes and the runtime see: model, graphs, nodes, values with producer and consumers,
 * constant tensors and attributes. Only load.c and save.c translate between it and protobuf. */
#ifndef ONNXC_IR_H
#define ONNXC_IR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "onnxc/onnxc.h"
#include "util.h"

/* Bytes kept verbatim: an opaque serialized sub-message the IR does not interpret (sparse tensors, non-tensor
 * TypeProtos, FunctionProtos, training info, ...) or a raw attribute string.
 * The `unknown` member of the IR structs below is one too: the fields of its message that the compiled schema
 * (onnx 1.12, IR 8) does not know, such as NodeProto.metadata_props (IR 10) or ModelProto.configuration (IR 11),
 * as their wire bytes (tag, then value) back to back; the writer emits them after the known fields. len 0: none. */
typedef struct oc_bytes {
    uint8_t *data;
    size_t len;
} oc_bytes;

typedef struct oc_kv {
    char *key;
    char *value;
    oc_bytes unknown; /* of the StringStringEntryProto */
} oc_kv;

/* Where a TensorProto held its data, so a round trip writes it back the same way. */
typedef enum oc_storage {
    OC_STORE_RAW = 0,      /* raw_data (also what new tensors use) */
    OC_STORE_TYPED = 1,    /* float_data / int32_data / int64_data / double_data / uint64_data / string_data */
    OC_STORE_EXTERNAL = 2, /* data_location = EXTERNAL; the data has been read in */
    OC_STORE_NONE = 3      /* no data field at all (a zero-element tensor written without payload) */
} oc_storage;

/* A constant tensor of the IR: the data plus what the TensorProto carried around it. */
typedef struct oc_tensor {
    onnxc_tensor t;
    char *name;
    char *doc_string;
    oc_storage storage;
    bool has_data_type;       /* proto2 presence of data_type */
    bool has_data_location;   /* presence of data_location (kept for equality) */
    oc_kv *external;          /* external_data entries as loaded (location/offset/length/checksum) */
    size_t n_external;
    bool has_segment;
    int64_t segment_begin, segment_end;
    bool has_segment_begin, has_segment_end;
    oc_bytes segment_unknown; /* of the TensorProto.Segment */
    oc_bytes unknown;
} oc_tensor;

/* One dim of a declared shape. */
typedef struct oc_dim {
    bool has_value;
    int64_t value;
    char *param;      /* dim_param, or NULL */
    char *denotation; /* may be NULL */
    oc_bytes unknown;
} oc_dim;

typedef enum oc_type_kind {
    OC_TYPE_NONE = 0,   /* ValueInfoProto without a type */
    OC_TYPE_TENSOR = 1, /* tensor_type, interpreted */
    OC_TYPE_OPAQUE = 2  /* any other TypeProto (sequence, map, optional, sparse), kept as packed bytes */
} oc_type_kind;

typedef struct oc_type {
    oc_type_kind kind;
    bool has_elem_type;
    int32_t elem_type;
    int32_t rank;         /* -1: no shape field */
    oc_dim *dims;
    char *denotation;
    oc_bytes opaque;      /* packed TypeProto when kind == OC_TYPE_OPAQUE (its unknown fields included) */
    oc_bytes unknown;        /* of the TypeProto (kind OC_TYPE_TENSOR) */
    oc_bytes tensor_unknown; /* of its TypeProto.Tensor */
    oc_bytes shape_unknown;  /* of its TensorShapeProto */
} oc_type;

struct oc_node;
struct oc_graph;

typedef struct oc_use {
    struct oc_node *node;
    int slot; /* input index of node */
} oc_use;

enum {
    OC_V_INPUT = 1u << 0,       /* listed in graph.input */
    OC_V_OUTPUT = 1u << 1,      /* listed in graph.output */
    OC_V_INITIALIZER = 1u << 2, /* has init data */
    OC_V_OUTER = 1u << 3,       /* subgraph reference to a value of an enclosing graph */
    OC_V_SPARSE = 1u << 4       /* named by graph.sparse_initializer (kept packed there; no init data) */
};

typedef struct oc_value {
    char *name;
    unsigned flags;
    struct oc_node *producer; /* NULL for inputs, initializers, outer references */
    int producer_slot;
    oc_use *uses;
    int n_uses, cap_uses;
    oc_tensor *init;          /* initializer data, or NULL */
    struct oc_graph *graph;
    int id;                   /* index in graph->values, stable until oc_graph_compact */
} oc_value;

/* A ValueInfoProto as listed in graph.input, graph.output or graph.value_info. */
typedef struct oc_vinfo {
    oc_value *value;
    oc_type type;
    char *doc_string;
    oc_bytes unknown;
} oc_vinfo;

/* ONNX AttributeProto.AttributeType numbers. */
typedef enum oc_attr_type {
    OC_ATTR_UNDEFINED = 0,
    OC_ATTR_FLOAT = 1,
    OC_ATTR_INT = 2,
    OC_ATTR_STRING = 3,
    OC_ATTR_TENSOR = 4,
    OC_ATTR_GRAPH = 5,
    OC_ATTR_FLOATS = 6,
    OC_ATTR_INTS = 7,
    OC_ATTR_STRINGS = 8,
    OC_ATTR_TENSORS = 9,
    OC_ATTR_GRAPHS = 10,
    OC_ATTR_SPARSE_TENSOR = 11,
    OC_ATTR_SPARSE_TENSORS = 12,
    OC_ATTR_TYPE_PROTO = 13,
    OC_ATTR_TYPE_PROTOS = 14
} oc_attr_type;

typedef struct oc_attr {
    char *name;
    char *ref_attr_name;
    char *doc_string;
    bool has_type;
    int type;           /* oc_attr_type */
    bool has_f, has_i, has_s;
    float f;
    int64_t i;
    oc_bytes s;
    oc_tensor *t;
    struct oc_graph *g;
    size_t n_floats, n_ints, n_strings, n_tensors, n_graphs;
    float *floats;
    int64_t *ints;
    oc_bytes *strings;
    oc_tensor **tensors;
    struct oc_graph **graphs;
    oc_bytes sparse_tensor;         /* packed SparseTensorProto, len 0 if none */
    size_t n_sparse_tensors;
    oc_bytes *sparse_tensors;
    oc_bytes type_proto;            /* packed TypeProto */
    size_t n_type_protos;
    oc_bytes *type_protos;
    oc_bytes unknown;
} oc_attr;

typedef struct oc_node {
    char *name;
    char *op_type;
    char *domain;       /* NULL when absent (the default domain) */
    char *doc_string;
    oc_value **inputs;  /* NULL entry: an omitted optional input ("") */
    int n_inputs;
    oc_value **outputs; /* NULL entry: an omitted optional output */
    int n_outputs;
    oc_attr *attrs;
    int n_attrs;
    struct oc_graph *graph;
    bool dead;          /* removed; freed at compaction */
    int id;
    oc_bytes unknown;   /* e.g. overload, metadata_props, device_configurations of newer IR versions */
} oc_node;

/* name -> value hash map (open addressing). */
typedef struct oc_map {
    oc_value **slots;
    uint64_t *hashes; /* per slot: its value's name hash, compared before the name itself */
    size_t cap;
    size_t count;
} oc_map;

typedef struct oc_graph {
    char *name;
    char *doc_string;
    oc_node **nodes;       /* in the order of the file (passes keep it topological) */
    int n_nodes, cap_nodes;
    oc_value **values;     /* every value this graph owns */
    int n_values, cap_values;
    oc_map map;
    oc_vinfo *inputs;
    int n_inputs;
    oc_vinfo *outputs;
    int n_outputs;
    oc_vinfo *value_infos;
    int n_value_infos;
    oc_value **initializers; /* order of graph.initializer */
    int n_initializers;
    oc_bytes *sparse_initializers;
    int n_sparse_initializers;
    oc_bytes *quantization_annotations;
    int n_quantization_annotations;
    struct oc_graph *parent;
    struct onnxc_model *model;
    oc_bytes unknown;
} oc_graph;

typedef struct oc_opset {
    char *domain; /* NULL or "" for the default domain */
    bool has_version;
    int64_t version;
    oc_bytes unknown;
} oc_opset;

struct onnxc_model {
    bool has_ir_version;
    int64_t ir_version;
    oc_opset *opsets;
    int n_opsets;
    char *producer_name;
    char *producer_version;
    char *domain;
    bool has_model_version;
    int64_t model_version;
    char *doc_string;
    oc_kv *metadata;
    int n_metadata;
    oc_graph *graph;
    oc_bytes *functions;      /* packed FunctionProtos, carried intact */
    int n_functions;
    oc_bytes *training_info;  /* packed TrainingInfoProtos */
    int n_training_info;
    bool has_subgraphs;       /* some graph of it was made with a parent (oc_graph_new): names are then checked
                               * against subgraphs too; never reset */
    char *path;               /* file it was loaded from, or NULL */
    char *dir;                /* folder for external data, or NULL */
    oc_bytes unknown;         /* e.g. configuration (IR 11) */
};

/* ---- model-local functions (inline.c) ---- */
/* True when a node of the main graph calls one of the model's functions. */
bool oc_model_calls_functions(const onnxc_model *m);
/* A copy of m with those calls inlined (see onnxc_model_inline_functions); *out NULL when none could be. */
onnxc_status oc_model_inlined_copy(const onnxc_model *m, onnxc_model **out);

/* ---- model and graph lifetime ---- */
onnxc_model *oc_model_new(void);
oc_graph *oc_graph_new(onnxc_model *m, oc_graph *parent);
void oc_graph_free(oc_graph *g);
void oc_tensor_free(oc_tensor *t);
/* An IR tensor taking over t's shape and data (t itself is freed). NULL when out of memory; t is freed then too. */
oc_tensor *oc_tensor_adopt(onnxc_tensor *t);
oc_tensor *oc_tensor_clone(const oc_tensor *t);
void oc_type_clear(oc_type *ty);
onnxc_status oc_type_copy(oc_type *dst, const oc_type *src);
void oc_attr_clear(oc_attr *a);

/* The default ONNX operator domain: NULL, "" and "ai.onnx" all name it (the one test of that; ONNX allows both
 * spellings in nodes and in opset_import). */
bool oc_domain_is_default(const char *domain);

/* a and b name the same domain (the default one however spelled). */
bool oc_domain_same(const char *a, const char *b);

/* n is op_type op of the default domain. */
bool oc_node_is_op(const oc_node *n, const char *op);

/* Opset version the model imports for a domain (NULL or "" or "ai.onnx" = default); 0 when not imported. */
int64_t oc_model_opset(const onnxc_model *m, const char *domain);

/* ---- values ---- */
oc_value *oc_graph_find(const oc_graph *g, const char *name);
/* Find name in g, then in its enclosing graphs. */
oc_value *oc_graph_lookup(const oc_graph *g, const char *name);
/* Get or create the value called name in g. NULL on allocation failure. */
oc_value *oc_graph_value(oc_graph *g, const char *name);
/* Create a value with a name not used anywhere in the graph (or enclosing ones): base, base_1, base_2... */
oc_value *oc_graph_new_value(oc_graph *g, const char *base);
/* Add an initializer with a fresh unique name derived from base; takes ownership of t (its name is set). */
oc_value *oc_graph_add_initializer(oc_graph *g, const char *base, oc_tensor *t);
/* IR <= 3: make sure initializer v is listed among the graph inputs with its tensor's type (no-op for IR >= 4). */
onnxc_status oc_graph_sync_initializer_input(oc_graph *g, oc_value *v);
/* Give v (which has no producer) constant data t; it joins the initializer list. Takes ownership of t. */
onnxc_status oc_value_make_initializer(oc_graph *g, oc_value *v, oc_tensor *t);
/* The type declared for v in graph inputs, outputs or value_info (first found), or NULL. */
const oc_type *oc_value_type(const oc_value *v);
/* True if v is a constant: an initializer that is not also a graph input, or the output of a Constant node (or a
 * subgraph's reference to one of an enclosing graph). */
bool oc_value_is_constant(const oc_value *v);
/* The constant tensor behind v (initializer or Constant node's value attribute; for a subgraph's reference to an
 * enclosing graph's value, that value's), or NULL. */
const oc_tensor *oc_value_constant(const oc_value *v);

/* ---- nodes and edges ---- */
oc_node *oc_graph_add_node(oc_graph *g, const char *op_type, const char *domain, const char *name);
/* Like oc_graph_add_node, but placed just before node `before` (keeps the node list topological). */
oc_node *oc_graph_insert_node(oc_graph *g, const oc_node *before, const char *op_type, const char *domain,
                              const char *name);
onnxc_status oc_node_set_input(oc_node *n, int slot, oc_value *v);   /* grows inputs as needed; v may be NULL */
onnxc_status oc_node_set_output(oc_node *n, int slot, oc_value *v);  /* v must have no producer */
/* Move every use of from onto to (graph outputs too: to takes over from's output slot). */
void oc_replace_all_uses(oc_value *from, oc_value *to);
/* Detach a node from its inputs and outputs and mark it dead. */
void oc_remove_node(oc_node *n);
/* Free dead nodes and values no one refers to; renumber ids. */
void oc_graph_compact(oc_graph *g);
/* A topological order of g's nodes, as n_nodes indices into g->nodes written to order, without changing the
 * graph. Stable: the file's order wherever it is valid (Kahn's algorithm taking the earliest ready node), so a
 * sorted graph keeps its order. ONNXC_E_INVALID naming a node on a cycle if there is no order. */
onnxc_status oc_graph_order(const oc_graph *g, int *order);
/* Move the nodes into oc_graph_order's order and renumber their ids; the graph is unchanged on error. */
onnxc_status oc_graph_toposort(oc_graph *g);

/* A node's index in g->nodes for code that may not renumber a (const) graph: the id while ids are current
 * (load, insert and compact keep them so), else a binary search of a table sorted by address. */
typedef struct oc_node_index {
    const oc_graph *g;
    struct oc_node_slot *sorted; /* NULL while the ids are current */
} oc_node_index;
onnxc_status oc_node_index_init(oc_node_index *ix, const oc_graph *g);
int oc_node_index_of(const oc_node_index *ix, const oc_node *n); /* -1 when n is not one of g->nodes */
void oc_node_index_free(oc_node_index *ix);

/* ---- attributes ---- */
const oc_attr *oc_node_attr(const oc_node *n, const char *name);
int64_t oc_attr_int(const oc_node *n, const char *name, int64_t dflt);
float oc_attr_float(const oc_node *n, const char *name, float dflt);
/* String attribute as a NUL-terminated copy in buf (truncated to cap); returns dflt when absent. */
const char *oc_attr_string(const oc_node *n, const char *name, const char *dflt, char *buf, size_t cap);
/* Int list: *n_out set, pointer into the attribute (NULL when absent). */
const int64_t *oc_attr_ints(const oc_node *n, const char *name, size_t *n_out);
const float *oc_attr_floats(const oc_node *n, const char *name, size_t *n_out);
/* Add or replace an attribute on n (takes the value fields of *a by copy; a->name is copied). */
onnxc_status oc_node_set_attr_int(oc_node *n, const char *name, int64_t v);
onnxc_status oc_node_set_attr_float(oc_node *n, const char *name, float v);
onnxc_status oc_node_set_attr_ints(oc_node *n, const char *name, const int64_t *v, size_t count);
void oc_node_remove_attr(oc_node *n, const char *name);

/* Short description of a node for messages: "'name' (OpType)" or "#id (OpType)" when unnamed. */
const char *oc_node_label(const oc_node *n, char *buf, size_t cap);

#endif
