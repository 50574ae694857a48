/* bw-device.c: the Vulkan instance, device choice, memory type, pipeline cache, the device's
 * life and what it reports; buffers, pipelines and recording are in bw-device-commands.c.
 */
#include "bw-device-private.h"

#include <string.h>

#include "bw-i18n.h"

G_DEFINE_QUARK (bw-device-error-quark, bw_device_error)

G_DEFINE_FINAL_TYPE (BwDevice, bw_device, G_TYPE_OBJECT)

/* BRUSHWORK_FAULT=device-lost@STEP or oom@STEP (tests only): the first submit, or the first
 * allocation made while commands are recorded, of that step (or of the first one after it;
 * step 0 is bw_session_start()) fails as a driver's would. Once per
 * process, so that a device made anew to go on does not meet the same fault again; or N
 * times with device-lost@STEPxN, each on the next device to reach that step. */
static gint fault_fired;
static gint fault_times = 1;

static void
parse_fault (BwDevice *self)
{
  const char *spec = g_getenv ("BRUSHWORK_FAULT");
  const char *at = spec ? strchr (spec, '@') : NULL;
  char *end;

  if (at == NULL)
    return;
  if (g_str_has_prefix (spec, "device-lost@"))
    self->fault = BW_FAULT_DEVICE_LOST;
  else if (g_str_has_prefix (spec, "oom@"))
    self->fault = BW_FAULT_OOM;
  self->fault_step = (int) g_ascii_strtoll (at + 1, &end, 10);
  if (*end == 'x')
    g_atomic_int_set (&fault_times, (int) g_ascii_strtoll (end + 1, NULL, 10));
}

gboolean
_bw_device_fault (BwDevice *self,
                  BwFault   kind)
{
  if (self->fault != kind || self->step < self->fault_step)
    return FALSE;
  /* an allocation fails where it hurts: with work recorded and not yet run */
  if (kind == BW_FAULT_OOM && !self->recording)
    return FALSE;
  for (;;)
    {
      int fired = g_atomic_int_get (&fault_fired);

      if (fired >= g_atomic_int_get (&fault_times))
        return FALSE;
      if (g_atomic_int_compare_and_exchange (&fault_fired, fired, fired + 1))
        return TRUE;
    }
}

void
bw_device_set_step (BwDevice *self,
                    int       step)
{
  self->step = step;
}

void
_bw_device_set_lost_error (GError **error)
{
  g_set_error_literal (error, BW_DEVICE_ERROR, BW_DEVICE_ERROR_LOST,
                       _("The graphics device stopped working (it was reset or stopped "
                         "answering). Paint again to start it anew; if this keeps happening, "
                         "update your graphics driver or choose another device with "
                         "BRUSHWORK_DEVICE."));
}

gboolean
_bw_device_vk_check (VkResult     result,
                     const char  *what,
                     GError     **error)
{
  if (result == VK_SUCCESS)
    return TRUE;
  if (result == VK_ERROR_DEVICE_LOST)
    _bw_device_set_lost_error (error);
  else if (result == VK_ERROR_OUT_OF_DEVICE_MEMORY || result == VK_ERROR_OUT_OF_HOST_MEMORY)
    g_set_error (error, BW_DEVICE_ERROR, BW_DEVICE_ERROR_OUT_OF_MEMORY,
                 _("The graphics device ran out of memory while %s. Try a smaller image size."), what);
  else
    g_set_error (error, BW_DEVICE_ERROR, BW_DEVICE_ERROR_FAILED,
                 _("The graphics device failed while %s (Vulkan error %d). Try another device with "
                   "BRUSHWORK_DEVICE, or update your graphics driver."), what, result);
  return FALSE;
}

static VkBool32 VKAPI_PTR
debug_callback (VkDebugUtilsMessageSeverityFlagBitsEXT      severity,
                VkDebugUtilsMessageTypeFlagsEXT             types,
                const VkDebugUtilsMessengerCallbackDataEXT *data,
                void                                       *user_data)
{
  BwDevice *self = user_data;

  if (severity & VK_DEBUG_UTILS_MESSAGE_SEVERITY_ERROR_BIT_EXT)
    {
      g_atomic_int_inc (&self->validation_errors);
      g_printerr ("Vulkan validation error: %s\n", data->pMessage);
    }
  else if (severity & VK_DEBUG_UTILS_MESSAGE_SEVERITY_WARNING_BIT_EXT)
    g_printerr ("Vulkan validation warning: %s\n", data->pMessage);
  return VK_FALSE;
}

static gboolean
has_layer (const char *name)
{
  guint32 n = 0;
  g_autofree VkLayerProperties *layers = NULL;

  vkEnumerateInstanceLayerProperties (&n, NULL);
  layers = g_new0 (VkLayerProperties, MAX (n, 1));
  vkEnumerateInstanceLayerProperties (&n, layers);
  for (guint32 i = 0; i < n; i++)
    if (g_str_equal (layers[i].layerName, name))
      return TRUE;
  return FALSE;
}

static gboolean
has_device_extension (VkPhysicalDevice  physical,
                      const char       *name)
{
  guint32 n = 0;
  g_autofree VkExtensionProperties *exts = NULL;

  vkEnumerateDeviceExtensionProperties (physical, NULL, &n, NULL);
  exts = g_new0 (VkExtensionProperties, MAX (n, 1));
  vkEnumerateDeviceExtensionProperties (physical, NULL, &n, exts);
  for (guint32 i = 0; i < n; i++)
    if (g_str_equal (exts[i].extensionName, name))
      return TRUE;
  return FALSE;
}

static gboolean
create_instance (BwDevice  *self,
                 GError   **error)
{
  const char *validation_layer = "VK_LAYER_KHRONOS_validation";
  const char *exts[] = { VK_EXT_DEBUG_UTILS_EXTENSION_NAME, VK_EXT_VALIDATION_FEATURES_EXTENSION_NAME };
  const char *validate = g_getenv ("BRUSHWORK_VALIDATE");
  /* =sync adds synchronisation validation: lavapipe runs dispatches one after another, so a
   * missing barrier shows only there, or on a GPU */
  VkValidationFeatureEnableEXT sync = VK_VALIDATION_FEATURE_ENABLE_SYNCHRONIZATION_VALIDATION_EXT;
  VkValidationFeaturesEXT features = {
    .sType = VK_STRUCTURE_TYPE_VALIDATION_FEATURES_EXT,
    .enabledValidationFeatureCount = 1,
    .pEnabledValidationFeatures = &sync,
  };
  VkApplicationInfo app = {
    .sType = VK_STRUCTURE_TYPE_APPLICATION_INFO,
    .pApplicationName = "Brushwork",
    .apiVersion = VK_API_VERSION_1_1,
  };
  VkInstanceCreateInfo info = {
    .sType = VK_STRUCTURE_TYPE_INSTANCE_CREATE_INFO,
    .pApplicationInfo = &app,
  };
  VkResult res;

  if (g_strcmp0 (validate, "1") == 0 || g_strcmp0 (validate, "sync") == 0)
    {
      if (!has_layer (validation_layer))
        {
          g_set_error (error, BW_DEVICE_ERROR, BW_DEVICE_ERROR_UNSUPPORTED,
                       _("BRUSHWORK_VALIDATE=1 asks for the Vulkan validation layer, which is not "
                         "installed. Install it (sudo apt install vulkan-validationlayers) or unset "
                         "BRUSHWORK_VALIDATE."));
          return FALSE;
        }
      info.enabledLayerCount = 1;
      info.ppEnabledLayerNames = &validation_layer;
      info.enabledExtensionCount = g_str_equal (validate, "sync") ? 2 : 1;
      info.ppEnabledExtensionNames = exts;
      if (g_str_equal (validate, "sync"))
        info.pNext = &features;
      self->validating = TRUE;
    }

  res = vkCreateInstance (&info, NULL, &self->instance);
  if (res == VK_ERROR_INCOMPATIBLE_DRIVER || res == VK_ERROR_INITIALIZATION_FAILED)
    {
      g_set_error (error, BW_DEVICE_ERROR, BW_DEVICE_ERROR_NO_DRIVER,
                   _("No Vulkan 1.1 driver was found. Install the driver for your graphics card, or "
                     "Mesa's CPU driver (sudo apt install mesa-vulkan-drivers)."));
      return FALSE;
    }
  if (!_bw_device_vk_check (res, "starting Vulkan", error))
    return FALSE;

  if (self->validating)
    {
      VkDebugUtilsMessengerCreateInfoEXT dinfo = {
        .sType = VK_STRUCTURE_TYPE_DEBUG_UTILS_MESSENGER_CREATE_INFO_EXT,
        .messageSeverity = VK_DEBUG_UTILS_MESSAGE_SEVERITY_WARNING_BIT_EXT |
                           VK_DEBUG_UTILS_MESSAGE_SEVERITY_ERROR_BIT_EXT,
        .messageType = VK_DEBUG_UTILS_MESSAGE_TYPE_GENERAL_BIT_EXT |
                       VK_DEBUG_UTILS_MESSAGE_TYPE_VALIDATION_BIT_EXT |
                       VK_DEBUG_UTILS_MESSAGE_TYPE_PERFORMANCE_BIT_EXT,
        .pfnUserCallback = debug_callback,
        .pUserData = self,
      };
      PFN_vkCreateDebugUtilsMessengerEXT create_messenger =
        (PFN_vkCreateDebugUtilsMessengerEXT) vkGetInstanceProcAddr (self->instance,
                                                                    "vkCreateDebugUtilsMessengerEXT");
      if (create_messenger == NULL ||
          !_bw_device_vk_check (create_messenger (self->instance, &dinfo, NULL, &self->messenger),
                                "enabling validation messages", error))
        return FALSE;
    }
  return TRUE;
}

static int
device_type_rank (VkPhysicalDeviceType type)
{
  switch (type)
    {
    case VK_PHYSICAL_DEVICE_TYPE_DISCRETE_GPU: return 4;
    case VK_PHYSICAL_DEVICE_TYPE_INTEGRATED_GPU: return 3;
    case VK_PHYSICAL_DEVICE_TYPE_VIRTUAL_GPU: return 2;
    case VK_PHYSICAL_DEVICE_TYPE_CPU: return 1;
    case VK_PHYSICAL_DEVICE_TYPE_OTHER:
    case VK_PHYSICAL_DEVICE_TYPE_MAX_ENUM:
    default: return 0;
    }
}

static gboolean
find_compute_queue (VkPhysicalDevice  physical,
                    guint32          *family)
{
  guint32 n = 0;
  g_autofree VkQueueFamilyProperties *fams = NULL;

  vkGetPhysicalDeviceQueueFamilyProperties (physical, &n, NULL);
  fams = g_new0 (VkQueueFamilyProperties, MAX (n, 1));
  vkGetPhysicalDeviceQueueFamilyProperties (physical, &n, fams);
  for (guint32 i = 0; i < n; i++)
    if (fams[i].queueFlags & VK_QUEUE_COMPUTE_BIT)
      {
        *family = i;
        return TRUE;
      }
  return FALSE;
}

static gboolean
usable (VkPhysicalDevice physical)
{
  VkPhysicalDeviceProperties props;
  guint32 family;

  vkGetPhysicalDeviceProperties (physical, &props);
  return props.apiVersion >= VK_API_VERSION_1_1 &&
         find_compute_queue (physical, &family) &&
         has_device_extension (physical, VK_KHR_PUSH_DESCRIPTOR_EXTENSION_NAME);
}

static gboolean
pick_physical_device (BwDevice    *self,
                      const char  *selector,
                      GError     **error)
{
  guint32 n = 0;
  g_autofree VkPhysicalDevice *devs = NULL;
  int best = -1, best_rank = -1;

  if (vkEnumeratePhysicalDevices (self->instance, &n, NULL) != VK_SUCCESS || n == 0)
    {
      g_set_error (error, BW_DEVICE_ERROR, BW_DEVICE_ERROR_NO_DRIVER,
                   _("Vulkan found no graphics device. Install the driver for your graphics card, "
                     "or Mesa's CPU driver (sudo apt install mesa-vulkan-drivers)."));
      return FALSE;
    }
  devs = g_new0 (VkPhysicalDevice, n);
  vkEnumeratePhysicalDevices (self->instance, &n, devs);

  if (selector != NULL && *selector != '\0')
    {
      g_autoptr(GString) names = g_string_new (NULL);
      guint64 index;
      gboolean is_index = g_ascii_string_to_unsigned (selector, 10, 0, G_MAXUINT32, &index, NULL);
      g_autofree char *needle = g_utf8_casefold (selector, -1);

      for (guint32 i = 0; i < n; i++)
        {
          VkPhysicalDeviceProperties props;
          g_autofree char *hay = NULL;

          vkGetPhysicalDeviceProperties (devs[i], &props);
          hay = g_utf8_casefold (props.deviceName, -1);
          g_string_append_printf (names, "%s%u: %s", i ? ", " : "", i, props.deviceName);
          if (best < 0 && ((is_index && index == i) || (!is_index && strstr (hay, needle) != NULL)))
            best = i;
        }
      if (best < 0)
        {
          g_set_error (error, BW_DEVICE_ERROR, BW_DEVICE_ERROR_NOT_FOUND,
                       _("No Vulkan device matches “%s”. The devices here are %s."),
                       selector, names->str);
          return FALSE;
        }
      if (!usable (devs[best]))
        {
          g_set_error (error, BW_DEVICE_ERROR, BW_DEVICE_ERROR_UNSUPPORTED,
                       _("The Vulkan device “%s” lacks Vulkan 1.1, a compute queue or push "
                         "descriptors. Choose another device."), selector);
          return FALSE;
        }
    }
  else
    {
      for (guint32 i = 0; i < n; i++)
        {
          VkPhysicalDeviceProperties props;

          vkGetPhysicalDeviceProperties (devs[i], &props);
          if (usable (devs[i]) && device_type_rank (props.deviceType) > best_rank)
            {
              best = i;
              best_rank = device_type_rank (props.deviceType);
            }
        }
      if (best < 0)
        {
          g_set_error (error, BW_DEVICE_ERROR, BW_DEVICE_ERROR_UNSUPPORTED,
                       _("No Vulkan device here offers Vulkan 1.1 compute with push descriptors. "
                         "Update your graphics driver, or install Mesa's CPU driver "
                         "(sudo apt install mesa-vulkan-drivers)."));
          return FALSE;
        }
    }

  self->physical = devs[best];
  vkGetPhysicalDeviceProperties (self->physical, &self->props);
  {
    /* the largest single allocation (Vulkan 1.1 core; 2 GiB on lavapipe) */
    VkPhysicalDeviceMaintenance3Properties m3 = {
      .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_MAINTENANCE_3_PROPERTIES,
    };
    VkPhysicalDeviceProperties2 props2 = {
      .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_PROPERTIES_2,
      .pNext = &m3,
    };
    vkGetPhysicalDeviceProperties2 (self->physical, &props2);
    self->max_allocation = m3.maxMemoryAllocationSize;
  }
  vkGetPhysicalDeviceMemoryProperties (self->physical, &self->mem_props);
  find_compute_queue (self->physical, &self->queue_family);
  self->name = g_strdup (self->props.deviceName);
  return TRUE;
}

/* Prefer memory that is both device-local and mappable (all of it on CPU and integrated
 * devices): then transfers are plain copies. */
static gboolean
pick_memory_type (BwDevice  *self,
                  GError   **error)
{
  const VkMemoryPropertyFlags mappable = VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT |
                                         VK_MEMORY_PROPERTY_HOST_COHERENT_BIT;
  int local = -1, both = -1;

  for (guint32 i = 0; i < self->mem_props.memoryTypeCount; i++)
    {
      VkMemoryPropertyFlags f = self->mem_props.memoryTypes[i].propertyFlags;
      if ((f & VK_MEMORY_PROPERTY_DEVICE_LOCAL_BIT) && local < 0)
        local = i;
      if ((f & VK_MEMORY_PROPERTY_DEVICE_LOCAL_BIT) && (f & mappable) == mappable && both < 0)
        both = i;
    }
  /* A small mappable window (256 MiB of BAR) is no place for activations. */
  if (both >= 0)
    {
      guint32 heap = self->mem_props.memoryTypes[both].heapIndex;
      if (self->mem_props.memoryHeaps[heap].size < (1ull << 30) && local >= 0 &&
          self->mem_props.memoryTypes[local].heapIndex != heap)
        both = -1;
    }
  if (both < 0 && local < 0)
    {
      g_set_error (error, BW_DEVICE_ERROR, BW_DEVICE_ERROR_UNSUPPORTED,
                   _("The Vulkan device “%s” offers no device memory. Choose another device."),
                   self->name);
      return FALSE;
    }
  self->host_visible = both >= 0;
  self->memory_type = both >= 0 ? both : local;
  self->memory_size = self->mem_props.memoryHeaps[self->mem_props.memoryTypes[self->memory_type].heapIndex].size;
  return TRUE;
}

static char *
pipeline_cache_path (BwDevice *self)
{
  GString *uuid = g_string_new (NULL);
  g_autofree char *file = NULL;

  for (guint i = 0; i < VK_UUID_SIZE; i++)
    g_string_append_printf (uuid, "%02x", self->props.pipelineCacheUUID[i]);
  file = g_strdup_printf ("%s-%08x-%08x.bin", uuid->str, self->props.driverVersion,
                          self->props.vendorID);
  g_string_free (uuid, TRUE);
  return g_build_filename (g_get_user_cache_dir (), "brushwork", "pipelines", file, NULL);
}

static void
load_pipeline_cache (BwDevice *self)
{
  g_autofree char *contents = NULL;
  gsize len = 0;
  VkPipelineCacheCreateInfo info = { .sType = VK_STRUCTURE_TYPE_PIPELINE_CACHE_CREATE_INFO };

  self->pipeline_cache_path = pipeline_cache_path (self);
  /* A stale or corrupt file is simply not used: the driver checks the header itself. */
  if (g_file_get_contents (self->pipeline_cache_path, &contents, &len, NULL))
    {
      info.initialDataSize = len;
      info.pInitialData = contents;
    }
  if (vkCreatePipelineCache (self->device, &info, NULL, &self->pipeline_cache) != VK_SUCCESS)
    {
      info.initialDataSize = 0;
      info.pInitialData = NULL;
      if (vkCreatePipelineCache (self->device, &info, NULL, &self->pipeline_cache) != VK_SUCCESS)
        self->pipeline_cache = VK_NULL_HANDLE;
    }
}

void
bw_device_save_pipeline_cache (BwDevice *self)
{
  size_t len = 0;
  g_autofree char *data = NULL;
  g_autofree char *dir = NULL;
  g_autoptr(GError) error = NULL;

  if (self->pipeline_cache == VK_NULL_HANDLE || !self->pipeline_cache_dirty)
    return;
  if (vkGetPipelineCacheData (self->device, self->pipeline_cache, &len, NULL) != VK_SUCCESS || len == 0)
    return;
  data = g_malloc (len);
  if (vkGetPipelineCacheData (self->device, self->pipeline_cache, &len, data) != VK_SUCCESS)
    return;
  dir = g_path_get_dirname (self->pipeline_cache_path);
  g_mkdir_with_parents (dir, 0755);
  /* g_file_set_contents writes a temporary file and renames it into place. */
  if (!g_file_set_contents (self->pipeline_cache_path, data, len, &error))
    g_debug ("Could not save the pipeline cache: %s", error->message);
  else
    self->pipeline_cache_dirty = FALSE;
}

static gboolean
create_device (BwDevice  *self,
               GError   **error)
{
  const float priority = 1.0f;
  const char *exts[] = { VK_KHR_PUSH_DESCRIPTOR_EXTENSION_NAME };
  VkDeviceQueueCreateInfo qinfo = {
    .sType = VK_STRUCTURE_TYPE_DEVICE_QUEUE_CREATE_INFO,
    .queueFamilyIndex = self->queue_family,
    .queueCount = 1,
    .pQueuePriorities = &priority,
  };
  VkPhysicalDeviceFeatures supported, enabled = { 0 };
  VkDeviceCreateInfo info = {
    .sType = VK_STRUCTURE_TYPE_DEVICE_CREATE_INFO,
    .queueCreateInfoCount = 1,
    .pQueueCreateInfos = &qinfo,
    .pEnabledFeatures = &enabled,
    .enabledExtensionCount = G_N_ELEMENTS (exts),
    .ppEnabledExtensionNames = exts,
  };
  VkCommandPoolCreateInfo pinfo = {
    .sType = VK_STRUCTURE_TYPE_COMMAND_POOL_CREATE_INFO,
    .flags = VK_COMMAND_POOL_CREATE_RESET_COMMAND_BUFFER_BIT,
    .queueFamilyIndex = self->queue_family,
  };
  VkFenceCreateInfo finfo = { .sType = VK_STRUCTURE_TYPE_FENCE_CREATE_INFO };

  /* 64-bit loads halve the number of loads lavapipe issues (docs/lavapipe-kernels.md) */
  vkGetPhysicalDeviceFeatures (self->physical, &supported);
  /* BRUSHWORK_NO_INT64=1 tests the kernels that GPUs without 64-bit integers get */
  self->int64 = supported.shaderInt64 && g_strcmp0 (g_getenv ("BRUSHWORK_NO_INT64"), "1") != 0;
  enabled.shaderInt64 = self->int64;
  {
    /* On lavapipe an imageLoad from a storage texel buffer costs a third of an SSBO load of the
     * same bytes (docs/lavapipe-kernels.md); GPUs keep plain buffers. BRUSHWORK_TEXEL=0|1
     * chooses. Vulkan requires rgba32f storage texel buffers, but ask. */
    VkFormatProperties format;
    const char *env = g_getenv ("BRUSHWORK_TEXEL");

    vkGetPhysicalDeviceFormatProperties (self->physical, VK_FORMAT_R32G32B32A32_SFLOAT, &format);
    self->texel_loads = (format.bufferFeatures & VK_FORMAT_FEATURE_STORAGE_TEXEL_BUFFER_BIT) &&
                        (env ? g_strcmp0 (env, "1") == 0
                             : self->props.deviceType == VK_PHYSICAL_DEVICE_TYPE_CPU);
  }

  /* BRUSHWORK_MAX_BINDING=BYTES makes the device's bindings of tensors that small, so that the
   * tests take small maps a range of channel packs at a time, as a large painting is on
   * lavapipe (weights and scratch keep the device's size, which they fit whatever the image) */
  self->max_binding = self->props.limits.maxStorageBufferRange;
  {
    const char *env = g_getenv ("BRUSHWORK_MAX_BINDING");
    guint64 forced = env ? g_ascii_strtoull (env, NULL, 10) / 16 * 16 : 0;

    if (forced > 0)
      self->max_binding = MIN (self->max_binding, forced);
  }

  if (!_bw_device_vk_check (vkCreateDevice (self->physical, &info, NULL, &self->device),
                            "opening the device", error))
    return FALSE;
  vkGetDeviceQueue (self->device, self->queue_family, 0, &self->queue);
  self->push_descriptor_set =
    (PFN_vkCmdPushDescriptorSetKHR) vkGetDeviceProcAddr (self->device, "vkCmdPushDescriptorSetKHR");
  if (self->push_descriptor_set == NULL)
    {
      g_set_error (error, BW_DEVICE_ERROR, BW_DEVICE_ERROR_UNSUPPORTED,
                   _("The Vulkan device “%s” does not provide push descriptors. Choose another "
                     "device."), self->name);
      return FALSE;
    }
  if (!_bw_device_vk_check (vkCreateCommandPool (self->device, &pinfo, NULL, &self->pool),
                            "creating a command pool", error))
    return FALSE;
  {
    VkCommandBufferAllocateInfo ainfo = {
      .sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_ALLOCATE_INFO,
      .commandPool = self->pool,
      .level = VK_COMMAND_BUFFER_LEVEL_PRIMARY,
      .commandBufferCount = 1,
    };
    if (!_bw_device_vk_check (vkAllocateCommandBuffers (self->device, &ainfo, &self->cmd),
                              "allocating a command buffer", error))
      return FALSE;
  }
  if (!_bw_device_vk_check (vkCreateFence (self->device, &finfo, NULL, &self->fence),
                            "creating a fence", error))
    return FALSE;
  load_pipeline_cache (self);
  self->dummy = bw_device_alloc_buffer (self, 16, error);
  return self->dummy != NULL;
}

BwDevice *
bw_device_new (const char  *selector,
               GError     **error)
{
  g_autoptr(BwDevice) self = g_object_new (BW_TYPE_DEVICE, NULL);

  if (selector == NULL)
    selector = g_getenv ("BRUSHWORK_DEVICE");
  self->profiling = g_strcmp0 (g_getenv ("BRUSHWORK_PROFILE"), "1") == 0;
  parse_fault (self);
  self->wait_limit_usec = 600 * G_USEC_PER_SEC;
  /* a barrier after every dispatch, as before barriers followed dependencies: for comparing */
  self->every_barrier = g_strcmp0 (g_getenv ("BRUSHWORK_BARRIERS"), "all") == 0;
  if (g_getenv ("BRUSHWORK_GPU_TIMEOUT"))
    self->wait_limit_usec = MAX (1, g_ascii_strtoll (g_getenv ("BRUSHWORK_GPU_TIMEOUT"), NULL, 10)) *
                            G_USEC_PER_SEC;
  if (!create_instance (self, error) ||
      !pick_physical_device (self, selector, error) ||
      !pick_memory_type (self, error) ||
      !create_device (self, error))
    return NULL;
  g_debug ("Using Vulkan device %s", self->name);
  return g_steal_pointer (&self);
}

static void
free_pipeline (gpointer data)
{
  /* Pipelines are destroyed in finalize, while the VkDevice still exists. */
  g_free (((BwPipeline *) data)->key);
  g_free (data);
}

static int
compare_time (gconstpointer a,
              gconstpointer b)
{
  const BwPipeline *pa = *(BwPipeline **) a, *pb = *(BwPipeline **) b;
  return (pa->seconds < pb->seconds) - (pa->seconds > pb->seconds);
}

static void
print_profile (BwDevice *self)
{
  g_autoptr(GPtrArray) all = g_ptr_array_new ();
  GHashTableIter iter;
  gpointer value;
  double total = 0;

  g_hash_table_iter_init (&iter, self->pipelines);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    g_ptr_array_add (all, value);
  g_ptr_array_sort (all, compare_time);
  for (guint i = 0; i < all->len; i++)
    total += ((BwPipeline *) all->pdata[i])->seconds;
  g_printerr ("Brushwork profile: %.3f s in %u pipelines; largest dispatch %.2f GFLOP\n",
              total, all->len, self->largest_dispatch / 1e9);
  for (guint i = 0; i < all->len; i++)
    {
      BwPipeline *p = all->pdata[i];
      if (p->dispatches)
        g_printerr ("  %8.3f s %5.1f%%  %6u x  %s\n", p->seconds, 100 * p->seconds / MAX (total, 1e-9),
                    p->dispatches, p->key);
    }
}

static void
bw_device_finalize (GObject *object)
{
  BwDevice *self = BW_DEVICE (object);

  if (self->device != VK_NULL_HANDLE)
    {
      GHashTableIter iter;
      gpointer value;

      vkDeviceWaitIdle (self->device);
      bw_device_save_pipeline_cache (self);
      if (self->profiling)
        print_profile (self);
      g_hash_table_iter_init (&iter, self->pipelines);
      while (g_hash_table_iter_next (&iter, NULL, &value))
        {
          BwPipeline *p = value;
          vkDestroyPipeline (self->device, p->pipeline, NULL);
          vkDestroyPipelineLayout (self->device, p->layout, NULL);
          vkDestroyDescriptorSetLayout (self->device, p->set_layout, NULL);
        }
      if (self->dummy)
        bw_device_free_buffer (self, self->dummy);
      if (self->pipeline_cache)
        vkDestroyPipelineCache (self->device, self->pipeline_cache, NULL);
      if (self->fence)
        vkDestroyFence (self->device, self->fence, NULL);
      if (self->pool)
        vkDestroyCommandPool (self->device, self->pool, NULL);
      vkDestroyDevice (self->device, NULL);
    }
  if (self->messenger != VK_NULL_HANDLE)
    {
      PFN_vkDestroyDebugUtilsMessengerEXT destroy =
        (PFN_vkDestroyDebugUtilsMessengerEXT) vkGetInstanceProcAddr (self->instance,
                                                                     "vkDestroyDebugUtilsMessengerEXT");
      if (destroy)
        destroy (self->instance, self->messenger, NULL);
    }
  if (self->instance != VK_NULL_HANDLE)
    vkDestroyInstance (self->instance, NULL);
  g_hash_table_unref (self->pipelines);
  g_free (self->pipeline_cache_path);
  g_free (self->name);

  G_OBJECT_CLASS (bw_device_parent_class)->finalize (object);
}

static void
bw_device_class_init (BwDeviceClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = bw_device_finalize;
}

static void
bw_device_init (BwDevice *self)
{
  self->pipelines = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, free_pipeline);
}

const char *
bw_device_get_name (BwDevice *self)
{
  return self->name;
}

gboolean
bw_device_has_int64 (BwDevice *self)
{
  return self->int64;
}

/* Whether shaders may read buffers as rgba32f imageBuffers (storage texel buffers): every
 * buffer then has a texel view from offset 0. */
gboolean
bw_device_has_texel_loads (BwDevice *self)
{
  return self->texel_loads;
}

gboolean
bw_device_is_cpu (BwDevice *self)
{
  return self->props.deviceType == VK_PHYSICAL_DEVICE_TYPE_CPU;
}

guint
bw_device_get_validation_errors (BwDevice *self)
{
  return g_atomic_int_get (&self->validation_errors);
}

gboolean
bw_device_is_validating (BwDevice *self)
{
  return self->validating;
}

guint
bw_device_get_max_workgroup_size (BwDevice *self)
{
  return self->props.limits.maxComputeWorkGroupInvocations;
}

guint64
bw_device_get_max_allocation (BwDevice *self)
{
  return self->max_allocation;
}

guint64
bw_device_get_offset_alignment (BwDevice *self)
{
  return MAX (self->props.limits.minStorageBufferOffsetAlignment, 16);
}

guint
bw_device_get_max_group_count (BwDevice *self,
                               guint     axis)
{
  g_return_val_if_fail (axis < 3, 65535);
  return self->props.limits.maxComputeWorkGroupCount[axis];
}

void
bw_device_note_work (BwDevice *self,
                     double    flops)
{
  self->largest_dispatch = MAX (self->largest_dispatch, flops);
  self->pending_work += flops;
}

double
bw_device_get_largest_dispatch (BwDevice *self)
{
  return self->largest_dispatch;
}

double
bw_device_get_pending_work (BwDevice *self)
{
  return self->pending_work;
}

guint64
bw_device_get_max_buffer_size (BwDevice *self)
{
  return self->max_binding;
}

guint64
bw_device_get_max_texel_view_size (BwDevice *self)
{
  return self->texel_loads ? (guint64) self->props.limits.maxTexelBufferElements * 16 : 0;
}

guint64
bw_device_get_allocated (BwDevice *self)
{
  return self->allocated;
}

guint64
bw_device_get_peak_allocated (BwDevice *self)
{
  return self->peak_allocated;
}

/* MemAvailable from /proc/meminfo, or 0 where there is none. */
static guint64
available_memory (void)
{
  g_autofree char *text = NULL;
  const char *line;

  if (!g_file_get_contents ("/proc/meminfo", &text, NULL, NULL))
    return 0;
  line = strstr (text, "MemAvailable:");
  return line ? g_ascii_strtoull (line + strlen ("MemAvailable:"), NULL, 10) * 1024 : 0;
}

guint64
bw_device_get_memory_size (BwDevice *self)
{
  guint64 available;

  /* A CPU device's memory is the machine's, most of which others may be using; what the
   * device holds already (the weights) is ours to count. The heap size such a driver reports
   * is a fixed figure that does not bound its allocations (lavapipe 22.3: 2 GiB whatever the
   * machine; 4 GiB plans run there), and counting it cost 1024 px steps 12 tiles of 256 px
   * instead of 4 of 512, 1.5x the time. */
  if (bw_device_is_cpu (self) && (available = available_memory ()) > 0)
    return available + self->allocated;
  return self->memory_size;
}
