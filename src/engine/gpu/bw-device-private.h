/* bw-device-private.h: what bw-device.c and bw-device-commands.c share: the device's state
 * and the helpers both call. */
#pragma once

#include "bw-device.h"

#define BW_MAX_BINDINGS 8

struct _BwPipeline {
  char *key;                /* shader name and specialisation, for profiles */
  double seconds;           /* time spent in it, when profiling */
  guint dispatches;
  VkDescriptorSetLayout set_layout;
  VkPipelineLayout layout;
  VkPipeline pipeline;
  guint n_bindings;
  guint push_size;
  guint32 writes;           /* bindings the shader may write, from its SPIR-V */
  guint32 texels;           /* bindings it reads as rgba32f imageBuffers (storage texel
                             * buffers), from its SPIR-V */
};

typedef enum {
  BW_FAULT_NONE,
  BW_FAULT_DEVICE_LOST,
  BW_FAULT_OOM,
} BwFault;

struct _BwDevice {
  GObject parent_instance;

  VkInstance instance;
  VkDebugUtilsMessengerEXT messenger;
  VkPhysicalDevice physical;
  VkPhysicalDeviceProperties props;
  VkPhysicalDeviceMemoryProperties mem_props;
  VkDevice device;
  VkQueue queue;
  guint32 queue_family;
  guint32 memory_type;
  gboolean host_visible;
  guint64 memory_size;
  guint64 max_allocation;     /* maxMemoryAllocationSize */

  VkCommandPool pool;
  VkCommandBuffer cmd;
  VkFence fence;
  gboolean recording;
  guint64 recording_serial;  /* counts recordings begun: BwBuffer.recorded_in refers to it */
  guint64 interval;          /* counts barriers and recordings: commands in one interval may
                              * run at once (BwBuffer.written_in, read_in) */
  gboolean every_barrier;    /* BRUSHWORK_BARRIERS=all */
  guint64 n_dispatches, n_barriers;
  gboolean lost;             /* device lost or a wait timed out: the command buffer may still
                              * be in use, so it is never reset or submitted again */
  gint64 wait_limit_usec;    /* BRUSHWORK_GPU_TIMEOUT */
  BwFault fault;             /* BRUSHWORK_FAULT */
  int fault_step, step;

  VkPipelineCache pipeline_cache;
  char *pipeline_cache_path;
  gboolean pipeline_cache_dirty;
  GHashTable *pipelines;   /* key string -> BwPipeline* */

  BwBuffer *dummy;
  PFN_vkCmdPushDescriptorSetKHR push_descriptor_set;

  char *name;
  gboolean profiling;       /* BRUSHWORK_PROFILE=1: time each dispatch on its own */
  gboolean int64;
  gboolean texel_loads;     /* buffers get rgba32f texel views, for shaders that read with
                             * imageLoad (bw_device_has_texel_loads()) */
  guint64 max_binding;      /* maxStorageBufferRange, or less for tensors (BRUSHWORK_MAX_BINDING) */
  guint64 allocated, peak_allocated;   /* bytes in buffers, for the memory reports */
  double largest_dispatch, pending_work;   /* flops, see bw_device_note_work() */
  guint validation_errors;
  gboolean validating;
};

/* vk_check: TRUE for VK_SUCCESS, else @error says what failed while doing @what */
gboolean _bw_device_vk_check        (VkResult     result,
                                     const char  *what,
                                     GError     **error);
void     _bw_device_set_lost_error  (GError     **error);
/* TRUE once, when BRUSHWORK_FAULT asks for @kind now */
gboolean _bw_device_fault           (BwDevice    *self,
                                     BwFault      kind);
