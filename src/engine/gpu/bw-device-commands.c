/* bw-device-commands.c: buffers, transfers, pipelines and the one command buffer into which
 * ops record their dispatches, submitted and waited for.
 *
 * Descriptors are pushed (VK_KHR_push_descriptor) rather than allocated: every dispatch binds
 * a handful of storage buffers and there is no set worth keeping between steps.
 */
#include "bw-device-private.h"

#include <string.h>

#include "bw-shader-resources.h"
#include "bw-i18n.h"

/* Buffers */

static BwBuffer *
alloc_buffer_of_type (BwDevice               *self,
                      gsize                   size,
                      guint32                 type,
                      VkBufferUsageFlags      usage,
                      gboolean                map,
                      GError                **error)
{
  g_autofree BwBuffer *buf = g_new0 (BwBuffer, 1);
  VkBufferCreateInfo binfo = {
    .sType = VK_STRUCTURE_TYPE_BUFFER_CREATE_INFO,
    .size = MAX (size, 16),
    .usage = usage,
    .sharingMode = VK_SHARING_MODE_EXCLUSIVE,
  };
  VkMemoryRequirements req;
  VkMemoryAllocateInfo ainfo = { .sType = VK_STRUCTURE_TYPE_MEMORY_ALLOCATE_INFO };

  buf->size = binfo.size;
  if (!_bw_device_vk_check (vkCreateBuffer (self->device, &binfo, NULL, &buf->buffer),
                            "creating a buffer", error))
    return NULL;
  vkGetBufferMemoryRequirements (self->device, buf->buffer, &req);
  if (!(req.memoryTypeBits & (1u << type)))
    {
      vkDestroyBuffer (self->device, buf->buffer, NULL);
      g_set_error (error, BW_DEVICE_ERROR, BW_DEVICE_ERROR_UNSUPPORTED,
                   _("The Vulkan device “%s” cannot place buffers in its memory. Choose another "
                     "device."), self->name);
      return NULL;
    }
  ainfo.allocationSize = req.size;
  ainfo.memoryTypeIndex = type;
  if (!_bw_device_vk_check (_bw_device_fault (self, BW_FAULT_OOM)
                            ? VK_ERROR_OUT_OF_DEVICE_MEMORY
                            : vkAllocateMemory (self->device, &ainfo, NULL, &buf->memory),
                            "allocating memory", error))
    {
      vkDestroyBuffer (self->device, buf->buffer, NULL);
      return NULL;
    }
  if (!_bw_device_vk_check (vkBindBufferMemory (self->device, buf->buffer, buf->memory, 0),
                            "placing a buffer in memory", error) ||
      (map && !_bw_device_vk_check (vkMapMemory (self->device, buf->memory, 0, VK_WHOLE_SIZE, 0,
                                                 &buf->mapped),
                                    "mapping memory", error)))
    {
      vkDestroyBuffer (self->device, buf->buffer, NULL);
      vkFreeMemory (self->device, buf->memory, NULL);
      return NULL;
    }
  self->allocated += buf->size;
  self->peak_allocated = MAX (self->peak_allocated, self->allocated);
  return g_steal_pointer (&buf);
}

BwBuffer *
bw_device_alloc_buffer (BwDevice  *self,
                        gsize      size,
                        GError   **error)
{
  VkBufferUsageFlags usage = VK_BUFFER_USAGE_STORAGE_BUFFER_BIT |
                             VK_BUFFER_USAGE_TRANSFER_SRC_BIT | VK_BUFFER_USAGE_TRANSFER_DST_BIT;
  BwBuffer *buf;

  if (self->texel_loads)
    usage |= VK_BUFFER_USAGE_STORAGE_TEXEL_BUFFER_BIT;
  buf = alloc_buffer_of_type (self, size, self->memory_type, usage, self->host_visible, error);

  /* a view of all its whole texels; one larger than a view may hold has none, and the ops
   * read it as a storage buffer */
  if (buf && self->texel_loads && buf->size / 16 <= self->props.limits.maxTexelBufferElements)
    {
      VkBufferViewCreateInfo vinfo = {
        .sType = VK_STRUCTURE_TYPE_BUFFER_VIEW_CREATE_INFO,
        .buffer = buf->buffer,
        .format = VK_FORMAT_R32G32B32A32_SFLOAT,
        .range = buf->size / 16 * 16,
      };

      if (!_bw_device_vk_check (vkCreateBufferView (self->device, &vinfo, NULL, &buf->view),
                                "creating a buffer view", error))
        {
          bw_device_free_buffer (self, buf);
          return NULL;
        }
    }
  return buf;
}

void
bw_device_free_buffer (BwDevice *self,
                       BwBuffer *buffer)
{
  if (buffer == NULL)
    return;
  /* Commands recorded but not yet run may bind it (a step abandoned part-way by an error):
   * run them first, rather than leave them to run later against freed memory. */
  if (self->recording && buffer->recorded_in == self->recording_serial &&
      !bw_device_submit (self, NULL))
    bw_device_discard (self);
  if (buffer->mapped)
    vkUnmapMemory (self->device, buffer->memory);
  if (buffer->view)
    vkDestroyBufferView (self->device, buffer->view, NULL);
  self->allocated -= buffer->size;
  vkDestroyBuffer (self->device, buffer->buffer, NULL);
  vkFreeMemory (self->device, buffer->memory, NULL);
  g_free (buffer);
}

static gboolean
staging_copy (BwDevice  *self,
              BwBuffer  *buffer,
              gsize      offset,
              void      *data,
              gsize      size,
              gboolean   to_device,
              GError   **error)
{
  BwBuffer *staging = NULL;
  int type = -1;
  const VkMemoryPropertyFlags want = VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT |
                                     VK_MEMORY_PROPERTY_HOST_COHERENT_BIT;
  VkBufferCopy region = { .size = size };
  gboolean ok;

  for (guint32 i = 0; i < self->mem_props.memoryTypeCount && type < 0; i++)
    if ((self->mem_props.memoryTypes[i].propertyFlags & want) == want)
      type = i;
  if (type < 0)
    {
      g_set_error (error, BW_DEVICE_ERROR, BW_DEVICE_ERROR_UNSUPPORTED,
                   _("The Vulkan device “%s” has no memory the computer can write to. Choose "
                     "another device."), self->name);
      return FALSE;
    }
  staging = alloc_buffer_of_type (self, size, type,
                                  VK_BUFFER_USAGE_TRANSFER_SRC_BIT | VK_BUFFER_USAGE_TRANSFER_DST_BIT,
                                  TRUE, error);
  if (staging == NULL)
    return FALSE;
  /* Whatever was recorded so far must run first: it may produce what we read. */
  if (!bw_device_submit (self, error))
    {
      bw_device_free_buffer (self, staging);
      return FALSE;
    }
  if (to_device)
    memcpy (staging->mapped, data, size);
  {
    VkCommandBufferBeginInfo begin = {
      .sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_BEGIN_INFO,
      .flags = VK_COMMAND_BUFFER_USAGE_ONE_TIME_SUBMIT_BIT,
    };
    vkBeginCommandBuffer (self->cmd, &begin);
    self->recording = TRUE;
    self->recording_serial++;
  }
  if (to_device)
    {
      region.dstOffset = offset;
      vkCmdCopyBuffer (self->cmd, staging->buffer, buffer->buffer, 1, &region);
    }
  else
    {
      region.srcOffset = offset;
      vkCmdCopyBuffer (self->cmd, buffer->buffer, staging->buffer, 1, &region);
    }
  ok = bw_device_submit (self, error);
  if (ok && !to_device)
    memcpy (data, staging->mapped, size);
  bw_device_free_buffer (self, staging);
  return ok;
}

gboolean
bw_device_write_buffer (BwDevice    *self,
                        BwBuffer    *buffer,
                        gsize        offset,
                        const void  *data,
                        gsize        size,
                        GError     **error)
{
  g_return_val_if_fail (offset + size <= buffer->size, FALSE);

  if (buffer->mapped)
    {
      /* Work recorded earlier may still read this buffer. */
      if (self->recording && !bw_device_submit (self, error))
        return FALSE;
      memcpy ((char *) buffer->mapped + offset, data, size);
      return TRUE;
    }
  return staging_copy (self, buffer, offset, (void *) data, size, TRUE, error);
}

gboolean
bw_device_read_buffer (BwDevice  *self,
                       BwBuffer  *buffer,
                       gsize      offset,
                       void      *data,
                       gsize      size,
                       GError   **error)
{
  g_return_val_if_fail (offset + size <= buffer->size, FALSE);

  if (buffer->mapped)
    {
      if (self->recording && !bw_device_submit (self, error))
        return FALSE;
      memcpy (data, (char *) buffer->mapped + offset, size);
      return TRUE;
    }
  return staging_copy (self, buffer, offset, data, size, FALSE, error);
}

/* Recording */

static void
ensure_recording (BwDevice *self)
{
  VkCommandBufferBeginInfo begin = {
    .sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_BEGIN_INFO,
    .flags = VK_COMMAND_BUFFER_USAGE_ONE_TIME_SUBMIT_BIT,
  };

  if (self->recording)
    return;
  vkBeginCommandBuffer (self->cmd, &begin);
  self->recording = TRUE;
  self->recording_serial++;
  self->interval++;
}

static void
record_barrier (BwDevice *self)
{
  VkMemoryBarrier barrier = {
    .sType = VK_STRUCTURE_TYPE_MEMORY_BARRIER,
    .srcAccessMask = VK_ACCESS_SHADER_WRITE_BIT | VK_ACCESS_TRANSFER_WRITE_BIT,
    .dstAccessMask = VK_ACCESS_SHADER_READ_BIT | VK_ACCESS_SHADER_WRITE_BIT |
                     VK_ACCESS_TRANSFER_READ_BIT | VK_ACCESS_TRANSFER_WRITE_BIT,
  };

  vkCmdPipelineBarrier (self->cmd,
                        VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT | VK_PIPELINE_STAGE_TRANSFER_BIT,
                        VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT | VK_PIPELINE_STAGE_TRANSFER_BIT,
                        0, 1, &barrier, 0, NULL, 0, NULL);
  self->interval++;
  self->n_barriers++;
}

void
bw_device_get_command_counts (BwDevice *self,
                              guint64  *dispatches,
                              guint64  *barriers)
{
  *dispatches = self->n_dispatches;
  *barriers = self->n_barriers;
}

/* A barrier goes only between commands that depend on each other: before a command that
 * reads or writes what an earlier one in the same interval wrote, or writes what one read.
 * Independent work (a style layer's Gram and the next convolution, both reading one map)
 * may then overlap on a GPU. Lavapipe runs dispatches one after another whatever the
 * barriers, so BRUSHWORK_VALIDATE=sync (synchronisation validation) is what checks this. */
static gboolean
hazard (BwDevice *self,
        BwBuffer *buffer,
        gboolean  writes)
{
  return buffer->written_in == self->interval || (writes && buffer->read_in == self->interval);
}

static void
mark_access (BwDevice *self,
             BwBuffer *buffer,
             gboolean  writes)
{
  buffer->recorded_in = self->recording_serial;
  if (writes)
    buffer->written_in = self->interval;
  else
    buffer->read_in = self->interval;
}

void
bw_device_fill_zero (BwDevice *self,
                     BwBuffer *buffer)
{
  ensure_recording (self);
  if (hazard (self, buffer, TRUE))
    record_barrier (self);
  mark_access (self, buffer, TRUE);
  vkCmdFillBuffer (self->cmd, buffer->buffer, 0, VK_WHOLE_SIZE, 0);
}

/* What the SPIR-V says of each binding: whether the shader may write it (a block not
 * NonWritable in every member, GLSL's readonly, or an image variable not NonWritable;
 * anything this cannot read counts as written, which only costs a barrier), and whether it is
 * a storage texel buffer (an image of dimension Buffer, read with imageLoad), for the
 * descriptor layout. */
static void
spirv_bindings (const guint32 *code,
                gsize          n_words,
                guint32       *writes,
                guint32       *texels)
{
  enum { OP_TYPE_IMAGE = 25, OP_TYPE_STRUCT = 30, OP_TYPE_POINTER = 32, OP_VARIABLE = 59,
         OP_DECORATE = 71, OP_MEMBER_DECORATE = 72, DEC_NON_WRITABLE = 24, DEC_BINDING = 33,
         STORAGE_BUFFER = 12, UNIFORM = 2, UNIFORM_CONSTANT = 0, DIM_BUFFER = 5 };
  g_autoptr(GHashTable) binding_of = g_hash_table_new (NULL, NULL);     /* var -> binding + 1 */
  g_autoptr(GHashTable) pointee = g_hash_table_new (NULL, NULL);        /* pointer -> struct */
  g_autoptr(GHashTable) members = g_hash_table_new (NULL, NULL);        /* struct -> members */
  g_autoptr(GHashTable) readonly = g_hash_table_new (NULL, NULL);       /* struct -> count */
  g_autoptr(GHashTable) var_type = g_hash_table_new (NULL, NULL);       /* var -> pointer */
  g_autoptr(GHashTable) buffer_images = g_hash_table_new (NULL, NULL);  /* image types */
  g_autoptr(GHashTable) image_pointers = g_hash_table_new (NULL, NULL);
  g_autoptr(GHashTable) readonly_vars = g_hash_table_new (NULL, NULL);
  GHashTableIter iter;
  gpointer var, binding;

  *writes = 0;
  *texels = 0;
  if (n_words < 5 || code[0] != 0x07230203)
    {
      *writes = ~0u;
      return;
    }
  for (gsize i = 5; i < n_words;)
    {
      guint32 op = code[i] & 0xffff, len = code[i] >> 16;
      const guint32 *a = code + i + 1;

      if (len == 0 || i + len > n_words)
        {
          *writes = ~0u;
          return;
        }
      if (op == OP_DECORATE && len >= 4 && a[1] == DEC_BINDING)
        g_hash_table_insert (binding_of, GUINT_TO_POINTER (a[0]), GUINT_TO_POINTER (a[2] + 1));
      else if (op == OP_DECORATE && len >= 3 && a[1] == DEC_NON_WRITABLE)
        g_hash_table_add (readonly_vars, GUINT_TO_POINTER (a[0]));
      else if (op == OP_MEMBER_DECORATE && len >= 4 && a[2] == DEC_NON_WRITABLE)
        g_hash_table_insert (readonly, GUINT_TO_POINTER (a[0]),
                             GUINT_TO_POINTER (GPOINTER_TO_UINT (g_hash_table_lookup (readonly, GUINT_TO_POINTER (a[0]))) + 1));
      else if (op == OP_TYPE_STRUCT && len >= 2)
        g_hash_table_insert (members, GUINT_TO_POINTER (a[0]), GUINT_TO_POINTER (len - 2));
      else if (op == OP_TYPE_IMAGE && len >= 9 && a[2] == DIM_BUFFER)
        g_hash_table_add (buffer_images, GUINT_TO_POINTER (a[0]));
      else if (op == OP_TYPE_POINTER && len == 4 && (a[1] == STORAGE_BUFFER || a[1] == UNIFORM))
        g_hash_table_insert (pointee, GUINT_TO_POINTER (a[0]), GUINT_TO_POINTER (a[2]));
      else if (op == OP_TYPE_POINTER && len == 4 && a[1] == UNIFORM_CONSTANT &&
               g_hash_table_contains (buffer_images, GUINT_TO_POINTER (a[2])))
        g_hash_table_add (image_pointers, GUINT_TO_POINTER (a[0]));
      else if (op == OP_VARIABLE && len >= 4)
        g_hash_table_insert (var_type, GUINT_TO_POINTER (a[1]), GUINT_TO_POINTER (a[0]));
      i += len;
    }
  g_hash_table_iter_init (&iter, binding_of);
  while (g_hash_table_iter_next (&iter, &var, &binding))
    {
      gpointer type = g_hash_table_lookup (var_type, var);
      gpointer block = g_hash_table_lookup (pointee, type);
      guint n = GPOINTER_TO_UINT (g_hash_table_lookup (members, block));
      guint32 bit = 1u << MIN (GPOINTER_TO_UINT (binding) - 1, 31);

      if (g_hash_table_contains (image_pointers, type))
        {
          *texels |= bit;
          if (!g_hash_table_contains (readonly_vars, var))
            *writes |= bit;
        }
      else if (block == NULL || n == 0 ||
               GPOINTER_TO_UINT (g_hash_table_lookup (readonly, block)) < n)
        *writes |= bit;
    }
}

BwPipeline *
bw_device_get_pipeline (BwDevice      *self,
                        const char    *shader,
                        const guint32 *spec,
                        guint          n_spec,
                        guint          n_bindings,
                        guint          push_size,
                        GError       **error)
{
  g_autoptr(GString) key = g_string_new (shader);
  g_autofree char *path = NULL;
  g_autoptr(GBytes) code = NULL;
  g_autofree BwPipeline *p = NULL;
  VkDescriptorSetLayoutBinding bindings[BW_MAX_BINDINGS];
  VkSpecializationMapEntry entries[16];
  BwPipeline *cached;
  VkResult res;

  g_return_val_if_fail (n_bindings <= BW_MAX_BINDINGS && n_spec <= G_N_ELEMENTS (entries), NULL);

  for (guint i = 0; i < n_spec; i++)
    g_string_append_printf (key, ":%u", spec[i]);
  cached = g_hash_table_lookup (self->pipelines, key->str);
  if (cached)
    return cached;

  path = g_strdup_printf ("/io/github/brushwork/shaders/%s.spv", shader);
  code = g_resource_lookup_data (bw_shaders_get_resource (), path, 0, error);
  if (code == NULL)
    return NULL;

  p = g_new0 (BwPipeline, 1);
  p->key = g_strdup (key->str);
  p->n_bindings = n_bindings;
  p->push_size = push_size;
  spirv_bindings (g_bytes_get_data (code, NULL), g_bytes_get_size (code) / 4, &p->writes,
                  &p->texels);
  for (guint i = 0; i < n_bindings; i++)
    bindings[i] = (VkDescriptorSetLayoutBinding) {
      .binding = i,
      .descriptorType = p->texels & (1u << i) ? VK_DESCRIPTOR_TYPE_STORAGE_TEXEL_BUFFER
                                              : VK_DESCRIPTOR_TYPE_STORAGE_BUFFER,
      .descriptorCount = 1,
      .stageFlags = VK_SHADER_STAGE_COMPUTE_BIT,
    };
  for (guint i = 0; i < n_spec; i++)
    entries[i] = (VkSpecializationMapEntry) { .constantID = i, .offset = i * 4, .size = 4 };

  {
    VkDescriptorSetLayoutCreateInfo sinfo = {
      .sType = VK_STRUCTURE_TYPE_DESCRIPTOR_SET_LAYOUT_CREATE_INFO,
      .flags = VK_DESCRIPTOR_SET_LAYOUT_CREATE_PUSH_DESCRIPTOR_BIT_KHR,
      .bindingCount = n_bindings,
      .pBindings = bindings,
    };
    VkPushConstantRange range = {
      .stageFlags = VK_SHADER_STAGE_COMPUTE_BIT,
      .size = push_size,
    };
    VkPipelineLayoutCreateInfo linfo = {
      .sType = VK_STRUCTURE_TYPE_PIPELINE_LAYOUT_CREATE_INFO,
      .setLayoutCount = 1,
      .pSetLayouts = &p->set_layout,
      .pushConstantRangeCount = push_size ? 1 : 0,
      .pPushConstantRanges = &range,
    };
    VkShaderModuleCreateInfo minfo = {
      .sType = VK_STRUCTURE_TYPE_SHADER_MODULE_CREATE_INFO,
      .codeSize = g_bytes_get_size (code),
      .pCode = g_bytes_get_data (code, NULL),
    };
    VkSpecializationInfo spinfo = {
      .mapEntryCount = n_spec,
      .pMapEntries = entries,
      .dataSize = n_spec * 4,
      .pData = spec,
    };
    VkComputePipelineCreateInfo cinfo = {
      .sType = VK_STRUCTURE_TYPE_COMPUTE_PIPELINE_CREATE_INFO,
      .stage = {
        .sType = VK_STRUCTURE_TYPE_PIPELINE_SHADER_STAGE_CREATE_INFO,
        .stage = VK_SHADER_STAGE_COMPUTE_BIT,
        .pName = "main",
        .pSpecializationInfo = n_spec ? &spinfo : NULL,
      },
    };
    VkShaderModule module;

    if (!_bw_device_vk_check (vkCreateDescriptorSetLayout (self->device, &sinfo, NULL,
                                                           &p->set_layout),
                              "creating a descriptor layout", error))
      return NULL;
    if (!_bw_device_vk_check (vkCreatePipelineLayout (self->device, &linfo, NULL, &p->layout),
                              "creating a pipeline layout", error))
      {
        vkDestroyDescriptorSetLayout (self->device, p->set_layout, NULL);
        return NULL;
      }
    if (!_bw_device_vk_check (vkCreateShaderModule (self->device, &minfo, NULL, &module),
                              "loading a shader", error))
      {
        vkDestroyPipelineLayout (self->device, p->layout, NULL);
        vkDestroyDescriptorSetLayout (self->device, p->set_layout, NULL);
        return NULL;
      }
    cinfo.stage.module = module;
    cinfo.layout = p->layout;
    res = vkCreateComputePipelines (self->device, self->pipeline_cache, 1, &cinfo, NULL, &p->pipeline);
    vkDestroyShaderModule (self->device, module, NULL);
    if (!_bw_device_vk_check (res, "compiling a shader", error))
      {
        vkDestroyPipelineLayout (self->device, p->layout, NULL);
        vkDestroyDescriptorSetLayout (self->device, p->set_layout, NULL);
        return NULL;
      }
  }
  self->pipeline_cache_dirty = TRUE;
  cached = g_steal_pointer (&p);
  g_hash_table_insert (self->pipelines, g_string_free (g_steal_pointer (&key), FALSE), cached);
  return cached;
}

void
bw_device_dispatch (BwDevice          *self,
                    BwPipeline        *pipeline,
                    BwBuffer  * const *buffers,
                    const void        *push,
                    guint              groups_x,
                    guint              groups_y,
                    guint              groups_z)
{
  bw_device_dispatch_at (self, pipeline, buffers, NULL, push, groups_x, groups_y, groups_z);
}

void
bw_device_dispatch_at (BwDevice          *self,
                       BwPipeline        *pipeline,
                       BwBuffer  * const *buffers,
                       const guint64     *offsets,
                       const void        *push,
                       guint              groups_x,
                       guint              groups_y,
                       guint              groups_z)
{
  VkDescriptorBufferInfo infos[BW_MAX_BINDINGS];
  VkWriteDescriptorSet writes[BW_MAX_BINDINGS];

  if (groups_x == 0 || groups_y == 0 || groups_z == 0)
    return;
  ensure_recording (self);
  for (guint i = 0; i < pipeline->n_bindings; i++)
    if (self->every_barrier ||
        hazard (self, buffers[i] ? buffers[i] : self->dummy, pipeline->writes & (1u << i)))
      {
        record_barrier (self);
        break;
      }
  for (guint i = 0; i < pipeline->n_bindings; i++)
    {
      BwBuffer *b = buffers[i] ? buffers[i] : self->dummy;
      VkDeviceSize offset = buffers[i] && offsets ? offsets[i] : 0;
      VkDeviceSize range = VK_WHOLE_SIZE;
      guint64 most = b->tensor ? self->max_binding : self->props.limits.maxStorageBufferRange;

      /* a part of a buffer larger than one binding may be */
      if (b->size - offset > most)
        range = most;
      mark_access (self, b, pipeline->writes & (1u << i));
      infos[i] = (VkDescriptorBufferInfo) { .buffer = b->buffer, .offset = offset, .range = range };
      writes[i] = (VkWriteDescriptorSet) {
        .sType = VK_STRUCTURE_TYPE_WRITE_DESCRIPTOR_SET,
        .dstBinding = i,
        .descriptorCount = 1,
        .descriptorType = VK_DESCRIPTOR_TYPE_STORAGE_BUFFER,
        .pBufferInfo = &infos[i],
      };
      if (pipeline->texels & (1u << i))
        {
          /* texel views start at offset 0 (bw_device_alloc_buffer) */
          g_return_if_fail (b->view != VK_NULL_HANDLE && offset == 0);
          writes[i].descriptorType = VK_DESCRIPTOR_TYPE_STORAGE_TEXEL_BUFFER;
          writes[i].pBufferInfo = NULL;
          writes[i].pTexelBufferView = &b->view;
        }
    }
  vkCmdBindPipeline (self->cmd, VK_PIPELINE_BIND_POINT_COMPUTE, pipeline->pipeline);
  self->push_descriptor_set (self->cmd, VK_PIPELINE_BIND_POINT_COMPUTE, pipeline->layout, 0,
                             pipeline->n_bindings, writes);
  if (pipeline->push_size)
    vkCmdPushConstants (self->cmd, pipeline->layout, VK_SHADER_STAGE_COMPUTE_BIT, 0,
                        pipeline->push_size, push);
  vkCmdDispatch (self->cmd, groups_x, groups_y, groups_z);
  self->n_dispatches++;
  if (self->profiling)
    {
      gint64 start = g_get_monotonic_time ();
      bw_device_submit (self, NULL);
      pipeline->seconds += (g_get_monotonic_time () - start) / 1e6;
      pipeline->dispatches++;
    }
}

/* Host reads of what the last submit wrote: the fence makes the work complete, not its
 * writes visible to the host (Vulkan's synchronisation chapter, "host access"). */
static void
record_host_read_barrier (BwDevice *self)
{
  VkMemoryBarrier barrier = {
    .sType = VK_STRUCTURE_TYPE_MEMORY_BARRIER,
    .srcAccessMask = VK_ACCESS_SHADER_WRITE_BIT | VK_ACCESS_TRANSFER_WRITE_BIT,
    .dstAccessMask = VK_ACCESS_HOST_READ_BIT,
  };

  vkCmdPipelineBarrier (self->cmd,
                        VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT | VK_PIPELINE_STAGE_TRANSFER_BIT,
                        VK_PIPELINE_STAGE_HOST_BIT, 0, 1, &barrier, 0, NULL, 0, NULL);
}

/* Waits in slices, so that a device that stopped answering ends in an error after
 * BRUSHWORK_GPU_TIMEOUT seconds (default 600: far above any one submit's work) instead of
 * blocking its thread for good. */
static VkResult
wait_for_fence (BwDevice *self)
{
  gint64 deadline = g_get_monotonic_time () + self->wait_limit_usec;
  VkResult result;

  do
    result = vkWaitForFences (self->device, 1, &self->fence, VK_TRUE, 1000 * 1000 * 1000);
  while (result == VK_TIMEOUT && g_get_monotonic_time () < deadline);
  return result;
}

void
bw_device_discard (BwDevice *self)
{
  if (!self->recording || self->lost)
    return;
  self->recording = FALSE;
  vkEndCommandBuffer (self->cmd);
  vkResetCommandBuffer (self->cmd, 0);
}

gboolean
bw_device_is_lost (BwDevice *self)
{
  return self->lost;
}

gboolean
bw_device_submit (BwDevice  *self,
                  GError   **error)
{
  VkSubmitInfo submit = {
    .sType = VK_STRUCTURE_TYPE_SUBMIT_INFO,
    .commandBufferCount = 1,
    .pCommandBuffers = &self->cmd,
  };
  VkResult result;

  if (self->lost)
    {
      _bw_device_set_lost_error (error);
      return FALSE;
    }
  if (!self->recording)
    return TRUE;
  self->recording = FALSE;
  self->pending_work = 0;
  record_host_read_barrier (self);
  if (!_bw_device_vk_check (vkEndCommandBuffer (self->cmd), "recording commands", error))
    {
      vkResetCommandBuffer (self->cmd, 0);
      return FALSE;
    }
  result = _bw_device_fault (self, BW_FAULT_DEVICE_LOST)
           ? VK_ERROR_DEVICE_LOST : vkQueueSubmit (self->queue, 1, &submit, self->fence);
  if (result == VK_SUCCESS)
    result = wait_for_fence (self);
  if (result == VK_SUCCESS)
    {
      vkResetFences (self->device, 1, &self->fence);
      vkResetCommandBuffer (self->cmd, 0);
      return TRUE;
    }
  if (result == VK_TIMEOUT || result == VK_ERROR_DEVICE_LOST)
    {
      /* the commands may still run: leave the command buffer and the fence alone */
      self->lost = TRUE;
      _bw_device_set_lost_error (error);
      return FALSE;
    }
  _bw_device_vk_check (result, "computing", error);
  vkResetCommandBuffer (self->cmd, 0);
  return FALSE;
}
