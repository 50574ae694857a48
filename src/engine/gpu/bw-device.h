/* bw-device.h: one Vulkan device and its compute queue, shared by everything in the engine.
 *
 * The device owns buffers, compute pipelines (built from the SPIR-V embedded in the engine, with a
 * pipeline cache kept on disk) and one command buffer into which ops record their dispatches;
 * bw_device_submit() runs what was recorded and waits for it.
 */
#pragma once

#include <gio/gio.h>
#include <vulkan/vulkan.h>

G_BEGIN_DECLS

#define BW_DEVICE_ERROR (bw_device_error_quark ())

typedef enum {
  BW_DEVICE_ERROR_NO_DRIVER,      /* no Vulkan driver or no usable device */
  BW_DEVICE_ERROR_NOT_FOUND,      /* BRUSHWORK_DEVICE names no device */
  BW_DEVICE_ERROR_UNSUPPORTED,    /* the device lacks something we need */
  BW_DEVICE_ERROR_OUT_OF_MEMORY,  /* an allocation or a planned size does not fit */
  BW_DEVICE_ERROR_FAILED,         /* any other Vulkan failure */
  BW_DEVICE_ERROR_LOST,           /* the device was lost or stopped answering: every later
                                     call fails; open a new device to go on */
} BwDeviceError;

GQuark bw_device_error_quark (void);

/* A device buffer. On devices whose memory the host can map (lavapipe, integrated GPUs,
 * resizable BAR) @mapped points at it; elsewhere transfers go through a staging buffer. */
typedef struct {
  VkBuffer buffer;
  VkDeviceMemory memory;
  VkDeviceSize size;
  void *mapped;
  guint64 recorded_in;   /* the recording that last bound it (bw-device.c) */
  guint64 written_in;    /* the barrier interval in which a command last wrote it, */
  guint64 read_in;       /* ... and read it (bw-device-commands.c) */
  VkBufferView view;     /* its rgba32f texel view from offset 0, made when a shader first
                          * reads it as an imageBuffer (bw-device-commands.c) */
  gboolean tensor;       /* holds a BwTensor's maps, to which BRUSHWORK_MAX_BINDING applies */
} BwBuffer;

/* A compute pipeline: one shader with one set of specialisation constants. */
typedef struct _BwPipeline BwPipeline;

#define BW_TYPE_DEVICE (bw_device_get_type ())
G_DECLARE_FINAL_TYPE (BwDevice, bw_device, BW, DEVICE, GObject)

/* @selector: an index or a case-insensitive substring of the device name; NULL reads
 * BRUSHWORK_DEVICE, and without it the best device is taken (discrete > integrated > virtual >
 * CPU). BRUSHWORK_VALIDATE=1 enables the Khronos validation layer. */
BwDevice     *bw_device_new                   (const char   *selector,
                                               GError      **error);

const char   *bw_device_get_name              (BwDevice     *self);
gboolean      bw_device_is_cpu                (BwDevice     *self);
/* Whether shaders may use 64-bit integers (enabled when the device has them). */
gboolean      bw_device_has_int64             (BwDevice     *self);
/* Whether shaders may read buffers as rgba32f imageBuffers (lavapipe; BRUSHWORK_TEXEL). */
gboolean      bw_device_has_texel_loads       (BwDevice     *self);
/* Validation-layer messages of severity error seen so far (0 unless validating). */
guint         bw_device_get_validation_errors (BwDevice     *self);
/* Dispatches and barriers recorded so far (a benchmark's measure of how much waits) */
void          bw_device_get_command_counts    (BwDevice     *self,
                                               guint64      *dispatches,
                                               guint64      *barriers);
gboolean      bw_device_is_validating         (BwDevice     *self);
/* The largest single buffer a shader may bind, and the memory we may use in all. */
guint64       bw_device_get_max_buffer_size   (BwDevice     *self);
/* The largest buffer with a texel view (bw_device_has_texel_loads()); 0 without them. */
guint64       bw_device_get_max_texel_view_size (BwDevice   *self);
/* maxComputeWorkGroupInvocations (at least 128 on any Vulkan device) */
guint         bw_device_get_max_workgroup_size (BwDevice    *self);
/* The device's memory heap; on a CPU device the machine's available memory and what the
 * device holds already. */
guint64       bw_device_get_memory_size       (BwDevice     *self);
/* maxMemoryAllocationSize: the largest buffer bw_device_alloc_buffer() can make; and
 * minStorageBufferOffsetAlignment (at least 16): bindings of parts of a buffer start at
 * multiples of it */
guint64       bw_device_get_max_allocation    (BwDevice     *self);
guint64       bw_device_get_offset_alignment  (BwDevice     *self);
/* maxComputeWorkGroupCount[0] and [1] (at least 65,535 on any Vulkan device) */
guint         bw_device_get_max_group_count   (BwDevice     *self,
                                               guint         axis);
/* Work accounting for bounded dispatches: the ops report the floating-point operations of
 * each large dispatch they record. The device keeps the largest (BRUSHWORK_PROFILE=1 prints
 * it) and the sum since the last submit, so that callers can submit every so often. */
void          bw_device_note_work             (BwDevice     *self,
                                               double        flops);
double        bw_device_get_largest_dispatch  (BwDevice     *self);
double        bw_device_get_pending_work      (BwDevice     *self);
/* The most bytes held in buffers at once so far. */
guint64       bw_device_get_peak_allocated    (BwDevice     *self);
/* The bytes held in buffers now. */
guint64       bw_device_get_allocated         (BwDevice     *self);

BwBuffer     *bw_device_alloc_buffer          (BwDevice     *self,
                                               gsize         size,
                                               GError      **error);
void          bw_device_free_buffer           (BwDevice     *self,
                                               BwBuffer     *buffer);
gboolean      bw_device_write_buffer          (BwDevice     *self,
                                               BwBuffer     *buffer,
                                               gsize         offset,
                                               const void   *data,
                                               gsize         size,
                                               GError      **error);
gboolean      bw_device_read_buffer           (BwDevice     *self,
                                               BwBuffer     *buffer,
                                               gsize         offset,
                                               void         *data,
                                               gsize         size,
                                               GError      **error);
/* Records a zero fill of the whole buffer. */
void          bw_device_fill_zero             (BwDevice     *self,
                                               BwBuffer     *buffer);

/* Returns the pipeline for @shader ("conv" for conv.spv) with the given specialisation
 * constants (constant_id i = spec[i]), built once and then cached. @n_bindings storage buffers
 * at bindings 0..n-1 and @push_size bytes of push constants. */
BwPipeline   *bw_device_get_pipeline          (BwDevice      *self,
                                               const char    *shader,
                                               const guint32 *spec,
                                               guint          n_spec,
                                               guint          n_bindings,
                                               guint          push_size,
                                               GError       **error);

/* Records one dispatch of @pipeline, binding @buffers (NULL entries bind a small dummy), and a
 * barrier after it so the next dispatch sees its writes. */
void          bw_device_dispatch              (BwDevice          *self,
                                               BwPipeline        *pipeline,
                                               BwBuffer  * const *buffers,
                                               const void        *push,
                                               guint              groups_x,
                                               guint              groups_y,
                                               guint              groups_z);

/* The same, binding each buffer from byte @offsets[i] (a multiple of
 * bw_device_get_offset_alignment()) for at most bw_device_get_max_buffer_size() bytes:
 * buffers larger than one binding allows are processed a part at a time (bw-ops.c). */
void          bw_device_dispatch_at           (BwDevice          *self,
                                               BwPipeline        *pipeline,
                                               BwBuffer  * const *buffers,
                                               const guint64     *offsets,
                                               const void        *push,
                                               guint              groups_x,
                                               guint              groups_y,
                                               guint              groups_z);

/* Runs everything recorded since the last submit and waits until it has finished. */
/* The optimisation step whose work is being recorded (0: before the first), for the faults
 * tests inject with BRUSHWORK_FAULT. */
void          bw_device_set_step              (BwDevice     *self,
                                               int           step);
/* Drops what was recorded and not yet submitted: after an error part-way through recording,
 * so that the next submit does not run half of an abandoned step. */
void          bw_device_discard               (BwDevice     *self);
/* TRUE once the device was lost (or a wait for it timed out): nothing it does can be trusted
 * any more. */
gboolean      bw_device_is_lost               (BwDevice     *self);
gboolean      bw_device_submit                (BwDevice     *self,
                                               GError      **error);

/* Writes the pipeline cache to disk now (also done when the device is finalised). */
void          bw_device_save_pipeline_cache   (BwDevice     *self);

G_END_DECLS
